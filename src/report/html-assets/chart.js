/*
 * Draws the HTML report's charts with uPlot from the page's JSON block (#chart-data, made by chartData() in
 * src/report/html-chart-data.ts). Plain ES2017 in an IIFE, so any browser that opens
 * the report runs it. Labels (SLO lines, monitor names) reach the page only through uPlot's legend
 * (textContent) and canvas text. scripts/inline-html-assets.ts inlines this file into the page without this
 * opening comment; the page's Content-Security-Policy allows it by its hash.
 */
(() => {
  var D = JSON.parse(document.getElementById('chart-data').textContent);
  if (!D.t.length || typeof uPlot !== 'function') return;
  // A leading empty point at 0 s, so every chart's x axis starts with the run (and the warm-up band shows).
  var lead = (a) => [null].concat(a);
  ['rps', 'fps', 'p50', 'p95', 'p99', 'max', 'inFlight', 'cpu', 'mem'].forEach((k) => {
    if (D[k]) D[k] = lead(D[k]);
  });
  D.load = [D.load[0]].concat(D.load); // the plan holds from the start: drawn as steps back to 0 s
  D.t = [0].concat(D.t);
  var sync = uPlot.sync('loadgate');
  var charts = [];
  var HEIGHT = 230;

  // Seconds since the start as m:ss or h:mm:ss, with tenths when asked and not whole (a partial last second).
  function clock(v, tenths) {
    var d = tenths ? Math.round(v * 10) : Math.round(v) * 10;
    var s = Math.floor(d / 10);
    var h = Math.floor(s / 3600),
      m = Math.floor((s % 3600) / 60),
      r = s % 60;
    var mm = h > 0 ? String(m).padStart(2, '0') : String(m);
    return `${(h > 0 ? `${h}:` : '') + mm}:${String(r).padStart(2, '0')}${d % 10 ? `.${d % 10}` : ''}`;
  }
  var SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  function fmt(unit, digits) {
    return (u, v) => (v == null ? '-' : (+v.toFixed(digits)).toLocaleString('en-US') + unit);
  }
  // Axis tick labels with a unit, for right-hand axes (labels there would shift the plot area).
  function unit(suffix) {
    return (u, vals) => vals.map((v) => v.toLocaleString('en-US') + suffix);
  }
  function fromZero(u, min, max) {
    var top = max == null || !isFinite(max) || max <= 0 ? 1 : max * 1.08;
    return [0, top];
  }
  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width));
  }

  // Stage starts (dashed verticals, numbered) and the warm-up band, drawn under the series.
  var marks = {
    hooks: {
      drawClear: [
        (u) => {
          var ctx = u.ctx,
            b = u.bbox,
            px = devicePixelRatio || 1;
          ctx.save();
          if (D.warmup > 0) {
            var x1 = u.valToPos(Math.min(D.warmup, u.scales.x.max), 'x', true),
              x0 = u.valToPos(Math.max(0, u.scales.x.min), 'x', true);
            if (x1 > x0) {
              ctx.fillStyle = 'rgba(140,149,159,0.15)';
              ctx.fillRect(x0, b.top, x1 - x0, b.height);
            }
          }
          ctx.strokeStyle = '#8c959f';
          ctx.fillStyle = '#59636e';
          ctx.lineWidth = px;
          ctx.setLineDash([4 * px, 4 * px]);
          ctx.font = `${11 * px}px system-ui, sans-serif`;
          D.stages.forEach((s) => {
            if (s.t < u.scales.x.min || s.t > u.scales.x.max) return;
            var x = Math.round(u.valToPos(s.t, 'x', true));
            ctx.beginPath();
            ctx.moveTo(x, b.top);
            ctx.lineTo(x, b.top + b.height);
            ctx.stroke();
            ctx.fillText(String(s.n), x + 3 * px, b.top + 11 * px);
          });
          ctx.restore();
        },
      ],
    },
  };

  function make(id, series, data, axes, scales, plugins) {
    var el = document.getElementById(id);
    if (!el) return;
    axes.forEach((a) => {
      a.size = a.size || (a.side === 1 ? 72 : 60);
    });
    // Every chart has a right axis (a blank one when it needs none), so their plot areas line up.
    if (!axes.some((a) => a.side === 1)) {
      axes.push({
        side: 1,
        scale: axes[0].scale || 'y',
        size: 72,
        stroke: 'transparent',
        grid: { show: false },
        ticks: { show: false },
        values: () => [],
      });
    }
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      cursor: { sync: { key: sync.key }, drag: { x: true, y: false } },
      scales: Object.assign({ x: { time: false } }, scales || {}),
      axes: [{ incrs: SECONDS, values: (u, vals) => vals.map((v) => clock(v, false)) }].concat(axes),
      series: [{ label: 'time', value: (u, v) => (v == null ? '-' : clock(v, true)) }].concat(series),
      plugins: [marks].concat(plugins || []),
    };
    charts.push({ el: el, plot: new uPlot(opts, [D.t].concat(data), el) });
  }

  make(
    'chart-throughput',
    [
      { label: 'req/s', stroke: '#0969da', width: 1.5, fill: 'rgba(9,105,218,0.08)', value: fmt('', 1) },
      { label: 'failures/s', stroke: '#cf222e', width: 1.5, value: fmt('', 1) },
    ],
    [D.rps, D.fps],
    [{ label: 'per second' }],
    { y: { range: fromZero } },
  );

  var palette = ['#6e7781', '#953800', '#0550ae', '#6639ba'];
  var noPath = () => null;
  // Latencies per second (ms) and each SLO threshold as a dashed line over its scope: the request latency
  // chart, and a streamed run's TTFT and ITL charts.
  function latencyChart(id, series, data, thresholds) {
    var first = series.length + 1; // the thresholds' series, after x and the latencies
    thresholds.forEach((th, i) => {
      // Drawn by the hook below, exactly over the SLO's scope; the series gives the legend entry, the value
      // under the cursor, and a y range that includes the line.
      series.push({
        label: th.label,
        stroke: th.pass ? palette[i % palette.length] : '#a40e26',
        width: 1.5,
        dash: [8, 5],
        paths: noPath,
        points: { show: false },
        auto: false,
        value: fmt(' ms', 2),
      });
      data.push(D.t.map((t) => (t > th.from && (th.to == null || t - 1 < th.to - 1e-9) ? th.ms : null)));
    });
    var thresholdLines = {
      hooks: {
        draw: [
          (u) => {
            var ctx = u.ctx,
              b = u.bbox,
              px = devicePixelRatio || 1;
            ctx.save();
            ctx.beginPath();
            ctx.rect(b.left, b.top, b.width, b.height);
            ctx.clip();
            ctx.lineWidth = 1.5 * px;
            ctx.setLineDash([8 * px, 5 * px]);
            thresholds.forEach((th, i) => {
              var s = u.series[first + i];
              if (!s.show) return;
              var x0 = u.valToPos(Math.max(th.from, u.scales.x.min), 'x', true);
              var x1 = u.valToPos(Math.min(th.to == null ? u.scales.x.max : th.to, u.scales.x.max), 'x', true);
              var y = Math.round(u.valToPos(th.ms, 'y', true));
              if (x1 <= x0) return;
              ctx.strokeStyle = ctx.fillStyle = s.stroke(u, first + i);
              if (y < b.top) {
                // Far above the latencies (see range): said at the top instead of squashing the chart.
                var text = `↑ SLO ${th.ms.toLocaleString('en-US')} ms`,
                  tx = x0 + 14 * px,
                  ty = b.top + 12 * px + 14 * px * i;
                ctx.font = `${11 * px}px system-ui, sans-serif`;
                ctx.fillStyle = 'rgba(255,255,255,0.85)';
                ctx.fillRect(tx - 2 * px, ty - 11 * px, ctx.measureText(text).width + 4 * px, 14 * px);
                ctx.fillStyle = s.stroke(u, first + i);
                ctx.fillText(text, tx, ty);
                return;
              }
              ctx.beginPath();
              ctx.moveTo(x0, y);
              ctx.lineTo(x1, y);
              ctx.stroke();
            });
            ctx.restore();
          },
        ],
      },
    };
    // From 0 to the highest latency shown, stretched to the SLO lines shown unless one is over 3 times higher.
    function range(u, min, max) {
      var top = max == null || !isFinite(max) || max <= 0 ? 0 : max;
      var shown = top;
      thresholds.forEach((th, i) => {
        var s = u.series && u.series[first + i];
        if ((!s || s.show) && (shown === 0 || th.ms <= 3 * shown)) top = Math.max(top, th.ms);
      });
      return [0, top > 0 ? top * 1.08 : 1];
    }
    make(id, series, data, [{ label: 'ms' }], { y: { range: range } }, [thresholdLines]);
  }

  latencyChart(
    'chart-latency',
    [
      { label: 'p50', stroke: '#1a7f37', width: 1.5, value: fmt(' ms', 2) },
      { label: 'p95', stroke: '#bf8700', width: 1.5, value: fmt(' ms', 2) },
      { label: 'p99', stroke: '#cf222e', width: 1.5, value: fmt(' ms', 2) },
      { label: 'max', stroke: '#8250df', width: 1, show: false, value: fmt(' ms', 2) },
    ],
    [D.p50, D.p95, D.p99, D.max],
    D.thresholds,
  );

  // Streamed answers (issue 12): TTFT and ITL per second with their SLO lines, and output per second.
  var S = D.stream;
  if (S) {
    var p50p99 = () => [
      { label: 'p50', stroke: '#1a7f37', width: 1.5, value: fmt(' ms', 2) },
      { label: 'p99', stroke: '#cf222e', width: 1.5, value: fmt(' ms', 2) },
    ];
    latencyChart('chart-ttft', p50p99(), [lead(S.ttftP50), lead(S.ttftP99)], S.ttftThresholds);
    latencyChart('chart-itl', p50p99(), [lead(S.itlP50), lead(S.itlP99)], S.itlThresholds);
    if (S.output) {
      make(
        'chart-output',
        [{ label: `${S.outputUnit}/s`, stroke: '#0969da', width: 1.5, fill: 'rgba(9,105,218,0.08)', value: fmt('', 1) }],
        [lead(S.output)],
        [{ label: 'per second' }],
        { y: { range: fromZero } },
      );
    }
  }

  // The plan as sampled at the end of each second, held over that second.
  var steps = uPlot.paths.stepped({ align: -1 });
  if (D.model === 'closed') {
    make(
      'chart-load',
      [
        { label: 'users', stroke: '#0969da', width: 2, value: fmt('', 0), paths: steps },
        { label: 'in flight', stroke: '#8c959f', width: 1, value: fmt('', 0) },
      ],
      [D.load, D.inFlight],
      [{ label: 'count' }],
      { y: { range: fromZero } },
    );
  } else {
    make(
      'chart-load',
      [
        { label: 'target rate (req/s)', stroke: '#0969da', width: 2, value: fmt('', 1), scale: 'y', paths: steps },
        { label: 'in flight', stroke: '#8c959f', width: 1, value: fmt('', 0), scale: 'n' },
      ],
      [D.load, D.inFlight],
      [
        { label: 'req/s', scale: 'y' },
        { side: 1, scale: 'n', grid: { show: false }, stroke: '#8c959f' },
      ],
      { y: { range: fromZero }, n: { range: fromZero } },
    );
  }

  if (D.cpu || D.mem) {
    var rs = [],
      rd = [],
      ra = [];
    if (D.cpu) {
      rs.push({ label: 'CPU', stroke: '#bc4c00', width: 1.5, value: fmt(' %', 1), scale: 'cpu' });
      rd.push(D.cpu);
      ra.push({ label: 'CPU %', scale: 'cpu' });
    }
    if (D.mem) {
      rs.push({ label: 'memory', stroke: '#8250df', width: 1.5, value: fmt(' MiB', 1), scale: 'mem' });
      rd.push(D.mem);
      ra.push(D.cpu ? { scale: 'mem', side: 1, grid: { show: false }, values: unit(' MiB') } : { label: 'MiB', scale: 'mem' });
    }
    make('chart-resources', rs, rd, ra, { cpu: { range: fromZero }, mem: { range: fromZero } });
  }

  // Monitor commands hold their last value until the next sample: drawn as steps.
  if (D.monitors) {
    var colors = ['#0969da', '#bc4c00', '#1a7f37', '#8250df', '#cf222e', '#9a6700'];
    make(
      'chart-monitors',
      D.monitors.map((m, i) => ({ label: m.name, stroke: colors[i % colors.length], width: 2, value: fmt('', 2), paths: steps })),
      D.monitors.map((m) => lead(m.values)),
      [{ label: 'value' }],
      { y: { range: fromZero } },
    );
  }

  function resize(width) {
    charts.forEach((c) => {
      c.plot.setSize({ width: width || widthOf(c.el), height: HEIGHT });
    });
  }
  var pending = 0;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      resize();
    }, 100);
  });
  window.addEventListener('beforeprint', () => {
    resize(680);
  });
  window.addEventListener('afterprint', () => {
    resize();
  });
})();
