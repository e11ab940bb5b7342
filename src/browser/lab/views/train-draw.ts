/**
 * The training view's pictures that are not line charts (those go through ../chart.ts): the first
 * conv layer's filters, a grid of test images with their predicted and true classes, and the
 * confusion matrix. Each draws into an element it is given, from numbers the worker sent.
 */
import { filterPixels } from '../train-metrics.js';

/** Screen pixels per filter weight. */
const FILTER_ZOOM = 8;

/**
 * The filters [O, C, KH, KW] as small RGB images in a grid (8 per row), each scaled to 0…255 on its
 * own, on one canvas: one canvas pixel per weight (1 px gaps), enlarged by CSS without smoothing.
 */
export function drawFilters(canvas: HTMLCanvasElement, shape: readonly number[], values: ArrayLike<number>): void {
  const [O, , KH, KW] = shape;
  const perRow = 8;
  const rows = Math.ceil(O / perRow);
  const width = perRow * (KW + 1) - 1;
  const height = rows * (KH + 1) - 1;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
    canvas.style.width = `${width * FILTER_ZOOM}px`;
    canvas.style.maxWidth = '100%';
  }
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('lab page: no 2d canvas for the filters');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  filterPixels(values, shape).forEach((rgba, o) => {
    ctx.putImageData(new ImageData(rgba, KW, KH), (o % perRow) * (KW + 1), Math.floor(o / perRow) * (KH + 1));
  });
}

/** A CIFAR image (3 planes of 32×32 bytes, as in the files) as RGBA pixels. */
function rgba(chw: Uint8Array, at: number): ImageData {
  const image = new ImageData(32, 32);
  for (let p = 0; p < 1024; p++) {
    for (let c = 0; c < 3; c++) image.data[p * 4 + c] = chw[at + c * 1024 + p];
    image.data[p * 4 + 3] = 255;
  }
  return image;
}

/** The test images of the grid: one figure each (canvas + caption). Captions are filled in by labelGrid. */
export function drawImageGrid(holder: HTMLElement, images: Uint8Array, labels: readonly number[], classNames: readonly string[]): void {
  holder.replaceChildren();
  labels.forEach((label, i) => {
    const figure = document.createElement('figure');
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 32;
    canvas.getContext('2d')?.putImageData(rgba(images, i * 3072), 0, 0);
    const caption = document.createElement('figcaption');
    caption.textContent = `true: ${classNames[label]}`;
    figure.append(canvas, caption);
    holder.appendChild(figure);
  });
}

/** Each grid image's caption: predicted class (green when right, red when wrong) and true class. */
export function labelGrid(holder: HTMLElement, predicted: readonly number[], labels: readonly number[], classNames: readonly string[]): void {
  holder.querySelectorAll('figcaption').forEach((caption, i) => {
    const right = predicted[i] === labels[i];
    caption.className = right ? 'right' : 'wrong';
    caption.textContent = `${classNames[predicted[i]]}${right ? ' ✓' : ` ✗ (${classNames[labels[i]]})`}`;
  });
}

/** The confusion matrix as a table (rows: true class, columns: predicted), cells shaded by their share of the row. */
export function drawConfusion(holder: HTMLElement, counts: readonly (readonly number[])[], classNames: readonly string[], title: string): void {
  const table = document.createElement('table');
  table.className = 'confusion';
  const caption = table.createCaption();
  caption.textContent = title;
  const head = table.createTHead().insertRow();
  head.insertCell().outerHTML = '<th scope="col">true ↓ predicted →</th>';
  const short = classNames.map((n) => n.replace(/^class /, '').slice(0, 4));
  for (const name of short) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    head.appendChild(th);
  }
  const body = table.createTBody();
  counts.forEach((row, t) => {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = classNames[t];
    tr.appendChild(th);
    const total = row.reduce((s, c) => s + c, 0);
    row.forEach((count, p) => {
      const td = tr.insertCell();
      td.textContent = String(count);
      const share = total > 0 ? count / total : 0;
      td.style.background = `rgba(${p === t ? '42,157,85' : '217,81,44'}, ${(0.85 * share).toFixed(3)})`;
    });
  });
  holder.replaceChildren(table);
}
