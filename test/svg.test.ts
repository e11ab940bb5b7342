/**
 * The SVG line-chart writer: the document is well formed, every series and band is drawn, points
 * land where the axis says (linear and log), unplottable points leave gaps, and ticks are "nice".
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeXml, formatTick, lineChart, linearTicks, logTicks } from '../src/util/svg.js';

/** Every opening tag is closed in order (self-closing tags excepted): a small well-formedness check. */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.is(stack.pop(), name, `closing </${name}> matches its opening tag`);
    else stack.push(name);
  }
  assert.equal(stack, [], 'every tag is closed');
}

const count = (s: string, needle: string): number => s.split(needle).length - 1;

test('lineChart: one polyline per series, a band polygon, legend entries, balanced tags', () => {
  const svg = lineChart(
    [
      { name: 'measured', x: [1, 2, 3], y: [2, 2.2, 1.9], band: { lower: [1.8, 2, 1.7], upper: [2.2, 2.4, 2.1] } },
      { name: 'eq. (6)', x: [1, 2, 3], y: [2, 4, 6], dash: true },
      { name: 'a < b & c', x: [1, 2, 3], y: [1, 1, 1], dash: '2 3', color: '#123456' },
    ],
    { title: 'Var[x_l]', xLabel: 'layer l', yLabel: 'variance', yScale: 'log' },
  );
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assertBalanced(svg);
  assert.is(count(svg, '<polyline'), 3);
  assert.is(count(svg, '<polygon'), 1);
  assert.is(count(svg, 'stroke-dasharray="6 4"'), 2, 'dashed line and its legend sample');
  assert.is(count(svg, 'stroke-dasharray="2 3"'), 2);
  assert.ok(svg.includes('a &lt; b &amp; c'), 'legend text is escaped');
  assert.ok(svg.includes('stroke="#123456"'));
  assert.ok(svg.includes('variance (log scale)'));
  assert.is(count(svg, '<circle'), 9, 'markers by default on short series');
});

test('lineChart: a point lands where the axis puts it (log: 10 halfway between 1 and 100)', () => {
  // No title and no x label: plot top = 14, plot height = 400 − 14 − 30 = 356.
  const log = lineChart([{ name: 's', x: [0, 1], y: [10, 10] }], { yScale: 'log', yRange: [1, 100], xRange: [0, 1], height: 400 });
  assert.ok(log.includes('cy="192.00"'), 'log axis: y = 10 at the middle, 14 + 356/2');
  const lin = lineChart([{ name: 's', x: [0, 1], y: [25, 25] }], { yRange: [0, 100], xRange: [0, 1], height: 400 });
  assert.ok(lin.includes('cy="281.00"'), 'linear axis: y = 25 at a quarter, 14 + 356·3/4');
});

test('lineChart: non-positive values on a log axis and NaN leave gaps instead of failing', () => {
  const svg = lineChart([{ name: 's', x: [1, 2, 3, 4, 5], y: [1, 0, 10, 100, NaN] }], { yScale: 'log' });
  assert.is(count(svg, '<polyline'), 2, 'the line breaks at the zero');
  assert.is(count(svg, '<circle'), 3);
  assert.not.ok(svg.includes('NaN'));
});

test('lineChart: mismatched lengths are a clear error naming the series', () => {
  assert.throws(() => lineChart([{ name: 'bad', x: [1, 2], y: [1] }]), /series 'bad' has 2 x values but 1 y values/);
  assert.throws(() => lineChart([{ name: 'b2', x: [1, 2], y: [1, 2], band: { lower: [1], upper: [1, 2] } }]), /series 'b2' band/);
});

test('ticks: nice linear steps, decades on a log axis, linear steps inside a narrow log range', () => {
  assert.equal(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(linearTicks(-3, 7), [-2, 0, 2, 4, 6]);
  assert.equal(logTicks(1, 1000), [1, 10, 100, 1000]);
  assert.equal(logTicks(1.5, 30), [2, 5, 10, 20]);
  assert.equal(logTicks(1.8, 2.3), [1.8, 1.9, 2, 2.1, 2.2, 2.3]);
  assert.is(formatTick(0.25), '0.25');
  assert.is(formatTick(1e6), '1e6');
  assert.is(formatTick(2e-4), '2e-4');
  assert.is(escapeXml('"<&>"'), '&quot;&lt;&amp;&gt;&quot;');
});

test.run();
