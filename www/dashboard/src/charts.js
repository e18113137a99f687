// Charts drawn with uPlot (bundled from npm by the build).

import uPlot from 'uplot';

const COLORS = ['#1a73e8', '#e8710a', '#12b5cb', '#9334e6'];

/**
 * A chart in `container`: `x` values and `series` of { label, values,
 * format, scale, bars }. `time` when x is Unix seconds. `markers`: { x,
 * label } drawn as labelled vertical lines (release markers). Replaces any
 * chart already there; returns the uPlot instance.
 */
export function chart(container, { x, series, time = false, xFormat, height = 240, markers = [] }) {
  container.replaceChildren();
  const width = Math.max(container.clientWidth || 0, 280);
  const scales = [...new Set(series.map((s) => s.scale || 'y'))];
  // Axes are drawn on the canvas: take the page's text colour (dark mode).
  const ink = getComputedStyle(document.body).color;
  const axis = { stroke: ink, grid: { stroke: 'rgba(128,128,128,0.25)' }, ticks: { stroke: 'rgba(128,128,128,0.4)' } };
  const options = {
    width,
    height,
    scales: { x: { time } },
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    plugins: markers.length ? [releaseMarkers(markers)] : [],
    series: [
      { value: (u, v) => (v === null ? '–' : xFormat ? xFormat(v) : v) },
      ...series.map((s, i) => ({
        label: s.label,
        scale: s.scale || 'y',
        stroke: COLORS[i % COLORS.length],
        fill: s.bars ? `${COLORS[i % COLORS.length]}55` : undefined,
        width: 2,
        spanGaps: false,
        paths: s.bars ? uPlot.paths.bars({ size: [0.6, 60] }) : undefined,
        points: { show: !s.bars },
        value: (u, v) => (v === null || v === undefined ? '–' : s.format(v)),
      })),
    ],
    axes: [
      xFormat ? { ...axis, values: (u, values) => values.map(xFormat) } : axis,
      ...scales.map((scale, i) => {
        const first = series.find((s) => (s.scale || 'y') === scale);
        return { ...axis, scale, side: i === 0 ? 3 : 1, grid: { ...axis.grid, show: i === 0 }, size: 64, values: (u, values) => values.map(first.format) };
      }),
    ],
  };
  return new uPlot(options, [x, ...series.map((s) => s.values)], container);
}

/**
 * Release markers over a chart: one element per marker inside the plot
 * (a dashed line and its name, placed through the CSSOM, which the strict
 * CSP allows), moved whenever the chart is drawn.
 */
function releaseMarkers(markers) {
  let nodes = [];
  return {
    hooks: {
      draw: (u) => {
        for (const node of nodes) node.remove();
        const [min, max] = [u.scales.x.min, u.scales.x.max];
        nodes = markers.filter((m) => m.x >= min && m.x <= max).map((m) => {
          const node = document.createElement('div');
          node.className = 'release-marker';
          node.dataset.release = m.label;
          node.title = `release ${m.label}: ${new Date(m.x * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
          const label = document.createElement('span');
          label.textContent = m.label;
          node.append(label);
          node.style.left = `${u.valToPos(m.x, 'x')}px`;
          u.over.append(node);
          return node;
        });
      },
    },
  };
}
