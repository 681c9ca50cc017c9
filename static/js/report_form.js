// The report form: choosing a month already filed opens that report; the month's investment and
// the cumulative investment can each be filled from the other (cumulative = last month's + month's).
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  var data = document.getElementById("filed-months");
  if (!form || !data) { return; }
  var filed = JSON.parse(data.textContent);
  var month = document.getElementById("id_month");
  var monthAmount = document.getElementById("id_month_investment");
  var cumulative = document.getElementById("id_cumulative_investment");
  var note = document.getElementById("fill-note");

  month.addEventListener("change", function () {
    var chosen = month.value;
    if (filed[chosen] && chosen !== form.dataset.openMonth) {
      window.location.assign(form.dataset.reportUrl + "?month=" + encodeURIComponent(chosen));
    }
  });
  if (!monthAmount || !cumulative) { return; }

  function previousMonth(value) {
    var parts = value.split("-");
    var y = parseInt(parts[0], 10), m = parseInt(parts[1], 10) - 1;
    if (m === 0) { y -= 1; m = 12; }
    return y + "-" + (m < 10 ? "0" : "") + m;
  }
  function previousCumulative() {
    if (!/^\d{4}-\d{2}$/.test(month.value)) { return null; }
    var before = filed[previousMonth(month.value)];
    return before && before.cumulative !== null ? parseFloat(before.cumulative) : null;
  }
  function say(text) { if (note) { note.textContent = text; } }
  function fill(target, value) { target.value = Math.max(value, 0).toFixed(2); say(""); }

  document.getElementById("fill-cumulative").hidden = false;
  document.getElementById("fill-month").hidden = false;
  document.getElementById("fill-cumulative").addEventListener("click", function () {
    var before = previousCumulative(), amount = parseFloat(monthAmount.value);
    if (before === null) { say("上月未填报累计完成投资，无法推算。"); return; }
    if (isNaN(amount)) { say("请先填写本月完成投资。"); return; }
    fill(cumulative, before + amount);
  });
  document.getElementById("fill-month").addEventListener("click", function () {
    var before = previousCumulative(), total = parseFloat(cumulative.value);
    if (before === null) { say("上月未填报累计完成投资，无法推算。"); return; }
    if (isNaN(total)) { say("请先填写累计完成投资。"); return; }
    fill(monthAmount, total - before);
  });
}());
