// Original file: proto/propeller/v1/jobs.proto


export interface ListWorkersRequest {
}

export interface ListWorkersRequest__Output {
}
