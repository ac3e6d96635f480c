// Original file: proto/propeller/v1/jobs.proto


export interface ListModelsRequest {
}

export interface ListModelsRequest__Output {
}
