// Original file: proto/propeller/v1/denoiser.proto


export interface InfoRequest {
}

export interface InfoRequest__Output {
}
