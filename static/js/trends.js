// Month-by-month trends on the dashboard (ECharts, vendored; the figures are the stored month ends).
(function () {
  const data = JSON.parse(document.getElementById('trends-data').textContent);
  if (typeof echarts === 'undefined') return;
  const charts = {};
  // no animation: the figures are a record, and a printed or captured page shows them whole
  const base = { animation: false, tooltip: { trigger: 'axis' }, legend: { top: 0 },
                 grid: { left: 50, right: 50, bottom: 30, top: 60 } };
  const legend = names => ({ top: 0, data: names });
  const colors = { red: '#dc3545', yellow: '#ffc107', green: '#198754', done: '#6c757d' };
  const options = {
    'trend-investment': s => ({
      legend: legend(['年内累计完成', '年度计划投资', '完成率%', '时间进度%']),
      xAxis: { type: 'category', data: s.labels },
      yAxis: [{ type: 'value', name: '亿元' }, { type: 'value', name: '%', max: v => Math.max(100, Math.ceil(v.max / 10) * 10) }],
      series: [
        { name: '年内累计完成', type: 'bar', data: s.year_completed, itemStyle: { color: '#0d6efd' } },
        { name: '年度计划投资', type: 'line', step: 'middle', data: s.year_planned, itemStyle: { color: '#6f42c1' } },
        { name: '完成率%', type: 'line', yAxisIndex: 1, data: s.completed_pct, itemStyle: { color: '#fd7e14' } },
        { name: '时间进度%', type: 'line', yAxisIndex: 1, data: s.time_pct, lineStyle: { type: 'dashed' }, itemStyle: { color: '#6c757d' } },
      ],
    }),
    'trend-lights': s => ({
      legend: legend(['红灯', '黄灯', '绿灯', '已完成']),
      xAxis: { type: 'category', data: s.labels },
      yAxis: { type: 'value', name: '项', minInterval: 1 },
      series: [['红灯', 'red'], ['黄灯', 'yellow'], ['绿灯', 'green'], ['已完成', 'done']].map(([name, key]) => ({
        name, type: 'bar', stack: 'lights', data: s[key], itemStyle: { color: colors[key] },
      })),
    }),
    'trend-reports': s => ({
      legend: legend(['应报', '按期报送', '按期率%']),
      xAxis: { type: 'category', data: s.labels },
      yAxis: [{ type: 'value', name: '份', minInterval: 1 }, { type: 'value', name: '%', max: 100 }],
      series: [
        { name: '应报', type: 'bar', data: s.reports_due, itemStyle: { color: '#adb5bd' } },
        { name: '按期报送', type: 'bar', data: s.reports_on_time, itemStyle: { color: '#198754' } },
        { name: '按期率%', type: 'line', yAxisIndex: 1, data: s.on_time_pct, itemStyle: { color: '#fd7e14' } },
      ],
    }),
  };
  const draw = range => {
    Object.keys(options).forEach(id => {
      const el = document.getElementById(id);
      if (!el) return;
      charts[id] = charts[id] || echarts.init(el);
      charts[id].setOption(Object.assign({}, base, options[id](data[range])), true);
      el.dataset.ready = range;
    });
  };
  document.querySelectorAll('[data-trend-range]').forEach(button => {
    button.addEventListener('click', () => {
      document.querySelectorAll('[data-trend-range]').forEach(b => {
        b.classList.toggle('active', b === button);
        b.setAttribute('aria-pressed', b === button ? 'true' : 'false');
      });
      draw(button.dataset.trendRange);
    });
  });
  window.addEventListener('resize', () => Object.values(charts).forEach(c => c.resize()));
  draw('year');
})();
