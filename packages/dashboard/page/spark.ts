/** A function's throughput as a tiny line: the last intervals' completions, drawn in SVG. */
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 80;
const HEIGHT = 18;

export function sparkline(points: readonly number[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('width', String(WIDTH));
  svg.setAttribute('height', String(HEIGHT));
  svg.setAttribute('class', 'spark');
  svg.append(document.createElementNS(SVG, 'polyline'));
  drawSparkline(svg, points);
  return svg;
}

export function drawSparkline(svg: SVGSVGElement, points: readonly number[]): void {
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? WIDTH / (points.length - 1) : 0;
  const line = points
    .map((p, i) => `${(i * step).toFixed(1)},${(HEIGHT - 1 - (p / max) * (HEIGHT - 2)).toFixed(1)}`)
    .join(' ');
  svg.firstElementChild!.setAttribute('points', line);
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    points.length === 0
      ? 'no history yet'
      : `completed per interval, last ${points.at(-1)}, highest ${max}`,
  );
}
