// The report form: choosing a month already filed opens that report; the month's investment and
// the cumulative investment can each be filled from the other (cumulative = last month's + month's).
// Last month's cumulative is the project's, across its chain of plans ("chain-cumulative", from the
// view). Sums are exact: amounts are added as whole ten-thousandths of 亿元, never as floats.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  var data = document.getElementById("filed-months");
  if (!form || !data) { return; }
  var filed = JSON.parse(data.textContent);
  var chainData = document.getElementById("chain-cumulative");
  var chain = chainData ? JSON.parse(chainData.textContent) : {};
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
  // "12.3456" -> 123456 (ten-thousandths); null when not a plain non-negative decimal
  function units(text) {
    var match = /^\s*(\d+)(?:\.(\d{0,4}))?\s*$/.exec(text || "");
    if (!match) { return null; }
    return parseInt(match[1], 10) * 10000 + parseInt(((match[2] || "") + "0000").slice(0, 4), 10);
  }
  function shown(value) {  // 123456 -> "12.35" (two decimals, rounded half up)
    var cents = Math.floor((Math.max(value, 0) + 50) / 100);
    var rest = String(cents % 100);
    return Math.floor(cents / 100) + "." + (rest.length < 2 ? "0" : "") + rest;
  }
  function previousCumulative() {
    if (!/^\d{4}-\d{2}$/.test(month.value)) { return null; }
    var before = chain[previousMonth(month.value)];
    return before === undefined || before === null ? null : units(before);
  }
  function say(text) { if (note) { note.textContent = text; } }
  function fill(target, value) { target.value = shown(value); say(""); }

  document.getElementById("fill-cumulative").hidden = false;
  document.getElementById("fill-month").hidden = false;
  document.getElementById("fill-cumulative").addEventListener("click", function () {
    var before = previousCumulative(), amount = units(monthAmount.value);
    if (before === null) { say("上月未填报累计完成投资，无法推算。"); return; }
    if (amount === null) { say("请先填写本月完成投资。"); return; }
    fill(cumulative, before + amount);
  });
  document.getElementById("fill-month").addEventListener("click", function () {
    var before = previousCumulative(), total = units(cumulative.value);
    if (before === null) { say("上月未填报累计完成投资，无法推算。"); return; }
    if (total === null) { say("请先填写累计完成投资。"); return; }
    fill(monthAmount, total - before);
  });
}());
