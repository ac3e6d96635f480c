/**
 * Public surface of `coordinator/video`: the `Encoder` port, its ffmpeg
 * adapter, frame conversion, `probeVideo` and the input reader.
 */
export { FfmpegEncoder, float01ToRgb24 } from './encoder.ts';
export type { Encoder, EncodeResult, FfmpegEncoderOptions, FrameSink, VideoEncoderOptions } from './encoder.ts';
export { BinaryNotFoundError, EncoderError, InputMediaError, ProbeError } from './errors.ts';
export type { EncoderOperation } from './errors.ts';
export { probeVideo } from './probe.ts';
export type { ProbeOptions, VideoProbe } from './probe.ts';
export { resolveBinary } from './binaries.ts';
export { INPUT_DEMUXERS, geometryFilter, probeInput, readInputFrames } from './input-reader.ts';
export type { FrameGeometry, InputProbe, InputReaderOptions } from './input-reader.ts';
