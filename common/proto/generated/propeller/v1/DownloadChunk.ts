// Original file: proto/propeller/v1/jobs.proto

import type { Long } from '@grpc/proto-loader';

export interface DownloadChunk {
  'data'?: (Buffer | Uint8Array | string);
  'offset'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
  'contentType'?: (string);
}

export interface DownloadChunk__Output {
  'data': (Buffer);
  'offset': (number);
  'totalBytes': (number);
  'contentType': (string);
}
