// Dashboard charts (ECharts, served by the app; Chinese labels).
(function () {
  const data = JSON.parse(document.getElementById('charts-data').textContent);
  const make = (id, option) => {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el);
    chart.setOption(Object.assign({ tooltip: { trigger: 'axis' }, grid: { left: 60, right: 20, bottom: 70, top: 40 } }, option));
    window.addEventListener('resize', () => chart.resize());
    // the figures as a table: read by screen readers, printed instead of the chart; a table
    // cannot be narrower than its text, so a hidden wrapper keeps it out of the page width
    const wrap = document.createElement('div');
    wrap.className = 'chart-data-wrap';
    wrap.append(dataTable(el, option));
    el.after(wrap);
    el.dataset.ready = '1';
  };
  // The chart's figures as a table: read by screen readers and printed in the chart's place
  // (a canvas sized for the screen does not print; static/css/print.css swaps the two).
  const dataTable = (el, option) => {
    const axis = [option.xAxis, option.yAxis].find(a => a.type === 'category');
    const money = [option.xAxis, option.yAxis].some(a => a.name === '亿元');
    const order = axis === option.yAxis ? axis.data.map((_, i) => axis.data.length - 1 - i) : axis.data.map((_, i) => i);
    const cell = (tag, text, cls) => {
      const c = document.createElement(tag);
      c.textContent = text;
      if (cls) c.className = cls;
      return c;
    };
    const table = document.createElement('table');
    table.className = 'table table-sm chart-data';
    table.id = el.id + '-table';
    const header = el.closest('.card') && el.closest('.card').querySelector('.card-header');
    if (header) table.append(cell('caption', header.firstChild.textContent.trim()));
    const head = document.createElement('tr');
    head.append(cell('th', ''), ...option.series.map(s => cell('th', s.name, 'text-end')));
    table.createTHead().append(head);
    const body = table.createTBody();
    order.forEach(i => {
      const row = document.createElement('tr');
      row.append(cell('th', axis.data[i]), ...option.series.map(s => {
        const v = s.data[i];
        return cell('td', v === null || v === undefined ? '—' : (money ? Number(v).toFixed(2) : String(v)), 'text-end');
      }));
      body.append(row);
    });
    return table;
  };
  const axisLabel = { interval: 0, rotate: 20, fontSize: 11 };
  const periodInvestment = '“' + data.period_label + '”投资';
  make('chart-category', {
    legend: { data: ['总投资', periodInvestment, '累计完成'] },
    xAxis: { type: 'category', data: data.category.names, axisLabel },
    yAxis: { type: 'value', name: '亿元' },
    series: [
      { name: '总投资', type: 'bar', data: data.category.total },
      { name: periodInvestment, type: 'bar', data: data.category.plan },
      { name: '累计完成', type: 'bar', data: data.category.completed },
    ],
  });
  make('chart-years', {
    legend: { data: ['年度计划投资', '完成投资'] },
    xAxis: { type: 'category', data: data.years.years },
    yAxis: { type: 'value', name: '亿元' },
    series: [
      { name: '年度计划投资', type: 'bar', data: data.years.planned },
      { name: '完成投资', type: 'bar', data: data.years.completed },
    ],
  });
  const lightNames = { red: '红灯', yellow: '黄灯', green: '绿灯', done: '已完成' };
  const lightColors = { red: '#dc3545', yellow: '#ffc107', green: '#198754', done: '#6c757d' };
  make('chart-lights', {
    legend: { data: Object.values(lightNames) },
    xAxis: { type: 'category', data: data.lights.names, axisLabel },
    yAxis: { type: 'value', name: '项' },
    series: Object.keys(lightNames).map(k => ({
      name: lightNames[k], type: 'bar', stack: 'l', data: data.lights.series[k], itemStyle: { color: lightColors[k] },
    })),
  });
  make('chart-ranking', {
    grid: { left: 230, right: 40, bottom: 40, top: 20 },
    xAxis: { type: 'value', name: '得分', nameLocation: 'middle', nameGap: 25, max: 100,
             min: Math.min(0, ...data.ranking.score.map(v => Math.floor(v / 10) * 10)) },
    yAxis: { type: 'category', data: data.ranking.names, axisLabel: { fontSize: 11, width: 220, overflow: 'truncate' } },
    series: [{ name: '得分', type: 'bar', data: data.ranking.score, itemStyle: { color: '#0d6efd' } }],
  });
})();
