// The indicator page's trend charts (ECharts, served by the app): yearly values against the path.
(function () {
  document.querySelectorAll('.indicator-trend').forEach(function (el) {
    const data = JSON.parse(el.dataset.trend || '{}');
    if (!data.years || !data.years.length) return;
    const chart = echarts.init(el, null, { renderer: 'svg' });
    const series = [{ name: '实际', type: 'line', data: data.actual, symbolSize: 4, connectNulls: true,
                      lineStyle: { width: 2 } }];
    if (data.path && data.path.length) {
      series.push({ name: '路径', type: 'line', data: data.path, symbol: 'none', connectNulls: true,
                    lineStyle: { type: 'dashed', width: 1, color: '#888' } });
    }
    chart.setOption({
      animation: false, grid: { left: 2, right: 2, top: 4, bottom: 4 },
      tooltip: { trigger: 'axis', confine: true },
      xAxis: { type: 'category', data: data.years, show: false },
      yAxis: { type: 'value', show: false, scale: true },
      series: series,
    });
    el.dataset.ready = '1';
  });
})();
