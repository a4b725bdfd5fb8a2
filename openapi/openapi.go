// Package openapi holds CasaPay's OpenAPI 3.0 document: the contract of the HTTP API, from the
// parameters each endpoint takes to the exact shape of every response and error.
package openapi

import _ "embed" // for Document

// Document is CasaPay's OpenAPI document, openapi.yaml, as YAML bytes. The server answers it at
// GET /openapi.yaml, and tests check real responses against it with the openapitest package.
// Callers must not modify it.
//
//go:embed openapi.yaml
var Document []byte
