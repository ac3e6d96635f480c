// Original file: proto/propeller/v1/jobs.proto


export interface DownloadRequest {
  'id'?: (string);
}

export interface DownloadRequest__Output {
  'id': (string);
}
