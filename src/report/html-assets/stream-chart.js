/*
 * Draws the HTML report's charts of streamed answers (issue 12) from the page's JSON block (#chart-data, its
 * `stream` part, made by chartData() in src/report/html-chart-data.ts): TTFT and ITL per second with their
 * SLO lines, and output per second, in the style of chart.js's latency chart (same sizes and axes, the stage
 * lines and the warm-up band, the cursor synchronized with the other charts). A script of its own, put in the
 * page only when the run streamed, so a report without streams is byte for byte the page it was before.
 * Labels (SLO lines) reach the page only through uPlot's legend (textContent) and canvas text.
 * scripts/inline-html-assets.ts inlines this file without this opening comment; the page's
 * Content-Security-Policy allows it by its hash.
 */
(() => {
  var D = JSON.parse(document.getElementById('chart-data').textContent);
  var S = D.stream;
  if (!S || !D.t.length || typeof uPlot !== 'function') return;
  // A leading empty point at 0 s, as in chart.js, so the x axes of all the charts line up.
  var lead = (a) => [null].concat(a);
  var T = [0].concat(D.t);
  var sync = uPlot.sync('loadgate');
  var charts = [];
  var HEIGHT = 230;

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
    return (_u, v) => (v == null ? '-' : (+v.toFixed(digits)).toLocaleString('en-US') + unit);
  }
  function fromZero(_u, _min, max) {
    var top = max == null || !Number.isFinite(max) || max <= 0 ? 1 : max * 1.08;
    return [0, top];
  }
  function widthOf(el) {
    return Math.max(320, Math.floor(el.getBoundingClientRect().width));
  }

  // Stage starts and the warm-up band, as chart.js draws them.
  var marks = {
    hooks: {
      drawClear: [
        (u) => {
          var ctx = u.ctx,
            b = u.bbox,
            px = devicePixelRatio || 1;
          ctx.save();
          if (D.warmup > 0) {
            const x1 = u.valToPos(Math.min(D.warmup, u.scales.x.max), 'x', true),
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
    // A blank right axis, as every chart has one, so the plot areas line up.
    axes.push({
      side: 1,
      scale: axes[0].scale || 'y',
      size: 72,
      stroke: 'transparent',
      grid: { show: false },
      ticks: { show: false },
      values: () => [],
    });
    var opts = {
      width: widthOf(el),
      height: HEIGHT,
      cursor: { sync: { key: sync.key }, drag: { x: true, y: false } },
      scales: Object.assign({ x: { time: false } }, scales || {}),
      axes: [{ incrs: SECONDS, values: (_u, vals) => vals.map((v) => clock(v, false)) }].concat(axes),
      series: [{ label: 'time', value: (_u, v) => (v == null ? '-' : clock(v, true)) }].concat(series),
      plugins: [marks].concat(plugins || []),
    };
    charts.push({ el: el, plot: new uPlot(opts, [T].concat(data), el) });
  }

  var palette = ['#6e7781', '#953800', '#0550ae', '#6639ba'];
  var noPath = () => null;
  // p50 and p99 per second, and each SLO threshold as a dashed line over its scope (series 3 on).
  function latencyChart(id, p50, p99, lines) {
    var FIRST = 3;
    var series = [
      { label: 'p50', stroke: '#1a7f37', width: 1.5, value: fmt(' ms', 2) },
      { label: 'p99', stroke: '#cf222e', width: 1.5, value: fmt(' ms', 2) },
    ];
    var data = [lead(p50), lead(p99)];
    lines.forEach((th, i) => {
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
      data.push(T.map((t) => (t > th.from && (th.to == null || t - 1 < th.to - 1e-9) ? th.ms : null)));
    });
    var drawLines = {
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
            lines.forEach((th, i) => {
              var s = u.series[FIRST + i];
              if (!s.show) return;
              var x0 = u.valToPos(Math.max(th.from, u.scales.x.min), 'x', true);
              var x1 = u.valToPos(Math.min(th.to == null ? u.scales.x.max : th.to, u.scales.x.max), 'x', true);
              var y = Math.round(u.valToPos(th.ms, 'y', true));
              if (x1 <= x0) return;
              ctx.strokeStyle = ctx.fillStyle = s.stroke(u, FIRST + i);
              if (y < b.top) {
                // Far above the values (see range): said at the top instead of squashing the chart.
                const text = `↑ SLO ${th.ms.toLocaleString('en-US')} ms`,
                  tx = x0 + 14 * px,
                  ty = b.top + 12 * px + 14 * px * i;
                ctx.font = `${11 * px}px system-ui, sans-serif`;
                ctx.fillStyle = 'rgba(255,255,255,0.85)';
                ctx.fillRect(tx - 2 * px, ty - 11 * px, ctx.measureText(text).width + 4 * px, 14 * px);
                ctx.fillStyle = s.stroke(u, FIRST + i);
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
    // From 0 to the highest value shown, stretched to the SLO lines shown unless one is over 3 times higher.
    function range(u, _min, max) {
      var top = max == null || !Number.isFinite(max) || max <= 0 ? 0 : max;
      var seen = top;
      lines.forEach((th, i) => {
        var s = u.series?.[FIRST + i];
        if ((!s || s.show) && (seen === 0 || th.ms <= 3 * seen)) top = Math.max(top, th.ms);
      });
      return [0, top > 0 ? top * 1.08 : 1];
    }
    make(id, series, data, [{ label: 'ms' }], { y: { range: range } }, [drawLines]);
  }

  latencyChart('chart-ttft', S.ttftP50, S.ttftP99, S.ttftThresholds);
  latencyChart('chart-itl', S.itlP50, S.itlP99, S.itlThresholds);
  if (S.output) {
    make(
      'chart-output',
      [{ label: `${S.outputUnit}/s`, stroke: '#0969da', width: 1.5, fill: 'rgba(9,105,218,0.08)', value: fmt('', 1) }],
      [lead(S.output)],
      [{ label: 'per second' }],
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
