/**
 * The contact sheet of a finished video: a grid of frames evenly spaced over
 * it, filled from the decoded frames as they stream to the encoder (each
 * picked frame is shrunk into its cell; nothing else is kept).
 */
import { encodePng } from './png.ts';
import { pickFrames, resizeInto, tileSize } from './pixels.ts';

/** Frames on a contact sheet, and its columns. */
export const SHEET_FRAMES = 12;
export const SHEET_COLUMNS = 4;

export class ContactSheet {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  private readonly cells = new Map<number, number>();
  private readonly cell: { width: number; height: number };
  private readonly cols: number;
  private readonly canvas: Uint8Array;

  /** A sheet at most `width` pixels wide of a `video.frames`-frame `video.width x video.height` video. */
  constructor(
    private readonly video: { frames: number; width: number; height: number },
    width: number,
    count = SHEET_FRAMES,
  ) {
    const picked = pickFrames(video.frames, count);
    picked.forEach((f, i) => this.cells.set(f, i));
    this.frames = picked.length;
    this.cols = Math.min(SHEET_COLUMNS, picked.length);
    this.cell = tileSize(width, this.cols, video.width, video.height);
    this.width = this.cell.width * this.cols;
    this.height = this.cell.height * Math.ceil(picked.length / this.cols);
    this.canvas = new Uint8Array(this.width * this.height * 3);
  }

  /** Offered every decoded frame (interleaved RGB24 at the video's size); keeps the picked ones. */
  offer(rgb24: Uint8Array, index: number): void {
    const i = this.cells.get(index);
    if (i === undefined) return;
    const place = { x: (i % this.cols) * this.cell.width, y: Math.floor(i / this.cols) * this.cell.height, ...this.cell, canvasWidth: this.width };
    resizeInto(rgb24, this.video.width, this.video.height, this.canvas, place);
  }

  /** The sheet as a PNG. */
  png(): Promise<Buffer> {
    return encodePng(this.canvas, this.width, this.height);
  }
}
