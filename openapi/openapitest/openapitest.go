// Package openapitest checks CasaPay's HTTP responses against the OpenAPI document in package
// openapi. It is meant for tests only: end-to-end tests pass every response they receive to
// Checker.Check, so the document and the server cannot drift apart unnoticed.
package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/casapay/casapay/openapi"
)

// Checker checks responses against openapi.Document. Make one with New. It is safe for concurrent
// use, so parallel subtests may share one.
type Checker struct {
	router    routers.Router
	errorBody *openapi3.Schema // the error schema, for routes the document does not describe
	requestID *openapi3.Header // the Request-Id header every response carries
}

// New loads and validates openapi.Document and returns a Checker for it. It calls t.Fatal if the
// document does not load or is not a valid OpenAPI 3.0 document.
func New(t testing.TB) *Checker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}

	// Tests call servers on httptest addresses, which match none of the document's servers, so the
	// router sees a copy without servers and matches on the path alone. It is the gorilla/mux router
	// because kin-openapi's legacy router is loose: it matches DELETE /v1/customers to
	// /v1/customers/{id} with an empty id, and GET /v1/customers/ to /v1/customers, where
	// http.ServeMux answers the unknown-route 404 and 405.
	routing := *doc
	routing.Servers = nil
	router, err := gorillamux.NewRouter(&routing)
	if err != nil {
		t.Fatalf("route openapi.yaml: %v", err)
	}

	errorBody := doc.Components.Schemas["error"]
	if errorBody == nil || errorBody.Value == nil {
		t.Fatalf("openapi.yaml has no error schema")
	}
	requestID := doc.Components.Headers["Request-Id"]
	if requestID == nil || requestID.Value == nil || requestID.Value.Schema == nil {
		t.Fatalf("openapi.yaml has no Request-Id header")
	}
	return &Checker{router: router, errorBody: errorBody.Value, requestID: requestID.Value}
}

// Check reports, with t.Errorf, a response that the document does not allow for req: an
// undocumented status, a missing or malformed header, a wrong Content-Type, or a body that does not
// match the schema. The operation is found from req's method and URL path; the host is ignored, so
// req may carry an httptest server's absolute URL. A response to a method and path the document
// does not describe (an unknown route, or a known path with the wrong method) must be an error
// status with a Request-Id header and the error object as its JSON body.
//
// Check reads neither req's body nor its credentials: server tests may send any request, valid or
// not, and still have the response checked.
func (c *Checker) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	if err := c.check(t, req, status, header, body); err != nil {
		t.Errorf("%s %s answered %d, which openapi.yaml does not allow: %v", req.Method, req.URL.Path, status, err)
	}
}

func (c *Checker) check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) error {
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		var routeErr *routers.RouteError
		if !errors.As(err, &routeErr) {
			return fmt.Errorf("find operation: %w", err)
		}
		return c.checkUnrouted(status, header, body)
	}
	options := &openapi3filter.Options{
		IncludeResponseStatus: true, // a status the operation does not list is a failure, not a pass
		MultiError:            true, // report every mismatch in the body at once
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	return openapi3filter.ValidateResponse(t.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
			Options:    options,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: options,
	})
}

// checkUnrouted checks a response to a method and path that no operation describes. The document
// says in prose that such requests answer the error object; this holds the server to it.
func (c *Checker) checkUnrouted(status int, header http.Header, body []byte) error {
	if status < 400 {
		return errors.New("no operation in openapi.yaml has this method and path, so only an error status is allowed")
	}
	id := header.Get("Request-Id")
	if id == "" {
		return errors.New(`response header "Request-Id" missing`)
	}
	if err := c.requestID.Schema.Value.VisitJSON(id); err != nil {
		return fmt.Errorf(`response header "Request-Id" doesn't match schema: %w`, err)
	}
	mediaType, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return fmt.Errorf("Content-Type %q is not application/json", header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := c.errorBody.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("body doesn't match the error schema: %w", err)
	}
	return nil
}
