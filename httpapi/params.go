package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/casapay/casapay"
)

// This file is the one place where requests become parameters. Query strings, form bodies and JSON
// bodies all decode into one tree of paramNode values, which the binders of bind.go read into casapay
// types, called by each endpoint's own binding. Every error is a *casapay.Error naming the parameter
// at fault.
//
// Form input is first split into an ordered list of pairs, not a url.Values map: in Stripe's bracket
// notation the order of pairs carries meaning (expand[0] comes before expand[1], and a later plain
// key overrides an earlier one), and a map would lose it.

// Limits on what one request may send. The server also wraps bodies in http.MaxBytesReader; the body
// limit here is the same 1 MiB, so a handler reached without that wrapper is still bounded.
const (
	maxParamBodyBytes = 1 << 20
	maxParamPairs     = 1000 // form pairs (query and body together), or values in a JSON body
	maxParamDepth     = 4    // segments in a key: address[city] has 2, a[b][c][d] has 4
)

// paramKind is the shape of one node of a decoded parameter tree.
type paramKind uint8

const (
	paramString paramKind = iota // a string; "" (a form key= or a JSON null) means empty
	paramNumber                  // a JSON number, kept as its text
	paramBool                    // a JSON true or false, kept as its text
	paramHash                    // a[b]= pairs, or a JSON object
	paramList                    // a[]= pairs, or a JSON array
)

func (k paramKind) String() string {
	switch k {
	case paramString:
		return "a string"
	case paramNumber:
		return "a number"
	case paramBool:
		return "a boolean"
	case paramHash:
		return "a hash"
	default:
		return "an array"
	}
}

// paramNode is one parameter. Indexed keys (a[0]=, a[1]=) make a hash whose keys are "0", "1", …:
// whether that is a list or a hash with numeric keys (metadata[0]=) only the binder knows.
type paramNode struct {
	kind  paramKind
	text  string                // paramString, paramNumber, paramBool
	keys  []string              // paramHash: keys in the order they first arrived
	hash  map[string]*paramNode // paramHash
	items []*paramNode          // paramList
}

func (n *paramNode) leaf() bool { return n.kind != paramHash && n.kind != paramList }

// setChild adds or replaces the child under key, keeping the key's first position.
func (n *paramNode) setChild(key string, child *paramNode) {
	if n.hash == nil {
		n.hash = make(map[string]*paramNode)
	}
	if _, ok := n.hash[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.hash[key] = child
}

// paramPath names a parameter in bracket notation: paramPath("address", "city") is "address[city]".
func paramPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "[" + key + "]"
}

// formPair is one key=value pair of a query string or form body, unescaped.
type formPair struct{ key, value string }

// decodeParamTree reads every parameter of r into one tree, whose root is a hash. The query string
// comes first and the body second, so a body value overrides a query value with the same key. GET,
// HEAD and DELETE requests take parameters from the query string only, as Stripe's SDKs send them; a
// body on one is rejected rather than ignored, so a parameter sent there is never silently dropped.
func decodeParamTree(r *http.Request) (*paramNode, error) {
	pairs, err := parseFormPairs(r.URL.RawQuery, "query string", nil)
	if err != nil {
		return nil, err
	}
	body, err := readParamBody(r)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete {
		if len(body) > 0 {
			return nil, &casapay.Error{
				Type:    casapay.ErrorTypeInvalidRequest,
				Message: fmt.Sprintf("%s requests take their parameters in the query string; this one has a body.", r.Method),
			}
		}
		return buildFormTree(pairs)
	}
	// An empty body carries no parameters whatever its Content-Type: SDKs send a form Content-Type
	// with no body, and curl users send a JSON one.
	if len(body) == 0 {
		return buildFormTree(pairs)
	}
	isJSON, err := isJSONBody(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if !isJSON {
		pairs, err = parseFormPairs(string(body), "request body", pairs)
		if err != nil {
			return nil, err
		}
		return buildFormTree(pairs)
	}
	root, err := buildFormTree(pairs)
	if err != nil {
		return nil, err
	}
	fromBody, err := parseJSONParams(body)
	if err != nil {
		return nil, err
	}
	if err := mergeParamTrees(root, fromBody, ""); err != nil {
		return nil, err
	}
	return root, nil
}

// isJSONBody reports whether a body with the given Content-Type is JSON (true) or a form (false).
// An absent Content-Type means a form, as Stripe assumes. The charset parameter is not checked:
// bodies must be UTF-8 whatever they claim.
func isJSONBody(contentType string) (bool, error) {
	if contentType == "" {
		return false, nil
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, casapay.InvalidParam("", "", "Invalid Content-Type header. "+
			"Send application/x-www-form-urlencoded or application/json.")
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		return false, nil
	case "application/json":
		return true, nil
	}
	// ParseMediaType accepts only token characters in mediaType, so it is safe to echo.
	return false, casapay.InvalidParam("", "", "Unsupported Content-Type %s. "+
		"Send application/x-www-form-urlencoded or application/json.", mediaType)
}

// readParamBody reads the whole body. A body over the server's limit is a 413; any other read
// failure is the client's (a broken connection, a bad chunked encoding) and a 400.
func readParamBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxParamBodyBytes+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, bodyTooLarge(tooLarge.Limit)
	case err != nil:
		return nil, casapay.InvalidParam("", "", "Could not read the request body.")
	case len(body) > maxParamBodyBytes:
		return nil, bodyTooLarge(maxParamBodyBytes)
	}
	return body, nil
}

func bodyTooLarge(limit int64) *casapay.Error {
	return &casapay.Error{
		Type:    casapay.ErrorTypeInvalidRequest,
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body too large: it can be at most %d bytes.", limit),
	}
}

// parseFormPairs splits a query string or form body into pairs, in order, and appends them to pairs.
// Unlike url.ParseQuery it keeps the order and accepts a key with no "=" as an empty value.
func parseFormPairs(s, source string, pairs []formPair) ([]formPair, error) {
	for s != "" {
		var piece string
		piece, s, _ = strings.Cut(s, "&")
		if piece == "" {
			continue
		}
		if len(pairs) == maxParamPairs {
			return nil, casapay.InvalidParam("", "", "Too many parameters: a request can have at most %d.", maxParamPairs)
		}
		rawKey, rawValue, _ := strings.Cut(piece, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, badEscape(source)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, badEscape(source)
		}
		// Keys and values reach error messages and the database, so both must be UTF-8.
		if !utf8.ValidString(key) {
			return nil, casapay.InvalidParam("", "", "Invalid UTF-8 in a parameter name in the %s.", source)
		}
		if !utf8.ValidString(value) {
			return nil, casapay.InvalidParam("", key, "Invalid UTF-8 in the value of %s in the %s.", key, source)
		}
		pairs = append(pairs, formPair{key, value})
	}
	return pairs, nil
}

func badEscape(source string) *casapay.Error {
	// The bad escape itself is not echoed: it may not be UTF-8.
	return casapay.InvalidParam("", "", "Invalid percent-encoding in the %s: "+
		"'%%' must be followed by two hexadecimal digits.", source)
}

// buildFormTree builds the parameter tree from pairs in order: a[b]= makes a hash, a[]= appends to an
// array, and a later plain value replaces an earlier one. A key used with two shapes (a=x&a[b]=y) is
// an error.
func buildFormTree(pairs []formPair) (*paramNode, error) {
	root := &paramNode{kind: paramHash}
	for _, p := range pairs {
		if err := insertFormPair(root, p.key, p.value); err != nil {
			return nil, err
		}
	}
	return root, nil
}

func insertFormPair(root *paramNode, key, value string) error {
	if key == "" {
		return casapay.InvalidParam("", "", "Invalid parameter: a parameter has an empty name.")
	}
	if strings.Count(key, "[") >= maxParamDepth {
		return casapay.InvalidParam("", key, "Invalid parameter %s: parameters can be nested at most %d levels deep.",
			key, maxParamDepth)
	}
	segs, ok := splitParamKey(key)
	if !ok {
		return unknownParam(key) // malformed brackets: no parameter has such a name
	}
	n, path := root, ""
	for i, seg := range segs {
		want := paramString
		if i+1 < len(segs) {
			want = paramHash
			if segs[i+1] == "" {
				want = paramList
			}
		}
		var child *paramNode
		if seg == "" { // a[]: n is a list, since the previous step wanted one
			path = paramPath(path, strconv.Itoa(len(n.items)))
			child = &paramNode{kind: want}
			n.items = append(n.items, child)
		} else {
			path = paramPath(path, seg)
			child = n.hash[seg]
			switch {
			case child == nil:
				child = &paramNode{kind: want}
				n.setChild(seg, child)
			case child.kind != want:
				return conflictingParam(path, child.kind, want)
			}
		}
		if want == paramString {
			child.text = value
		}
		n = child
	}
	return nil
}

// splitParamKey splits "a[b][]" into "a", "b", "". It reports false for a key that is not a name
// followed by bracketed segments, such as "[a]", "a]" or "a[b]c".
func splitParamKey(key string) ([]string, bool) {
	i := strings.IndexAny(key, "[]")
	if i < 0 {
		return []string{key}, true
	}
	if i == 0 || key[i] == ']' {
		return nil, false
	}
	segs := []string{key[:i]}
	for rest := key[i:]; rest != ""; {
		if rest[0] != '[' {
			return nil, false
		}
		j := strings.IndexAny(rest[1:], "[]")
		if j < 0 || rest[1+j] != ']' {
			return nil, false
		}
		segs = append(segs, rest[1:1+j])
		rest = rest[2+j:]
	}
	return segs, true
}

// parseJSONParams decodes a JSON body into a parameter tree: objects become hashes, arrays lists,
// and null an empty string, which clears or unsets as key= does in a form. Keys keep their order,
// and a repeated key replaces the earlier value.
func parseJSONParams(body []byte) (*paramNode, error) {
	// encoding/json replaces invalid UTF-8 with U+FFFD instead of failing, so check first.
	if !utf8.Valid(body) {
		return nil, casapay.InvalidParam("", "", "Invalid JSON received: the body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := &jsonParamParser{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return nil, invalidJSON(err)
	}
	if tok != json.Delim('{') {
		return nil, casapay.InvalidParam("", "", "Invalid JSON received: the body must be a JSON object.")
	}
	root, err := p.object(0, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, casapay.InvalidParam("", "", "Invalid JSON received: unexpected data after the top-level object.")
	}
	return root, nil
}

// jsonParamParser walks a JSON body token by token, so that it can keep key order and stop at
// maxParamDepth before building anything deeper.
type jsonParamParser struct {
	dec    *json.Decoder
	values int
}

// value builds the node that begins with tok, at the given depth (a top-level key's value is 1).
func (p *jsonParamParser) value(tok json.Token, depth int, path string) (*paramNode, error) {
	p.values++
	if p.values > maxParamPairs {
		return nil, casapay.InvalidParam("", "", "Too many parameters: a request can have at most %d.", maxParamPairs)
	}
	if depth > maxParamDepth {
		return nil, casapay.InvalidParam("", path, "Invalid parameter %s: parameters can be nested at most %d levels deep.",
			path, maxParamDepth)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return p.object(depth, path)
		}
		return p.array(depth, path) // Token returns only '{' or '[' where a value starts
	case string:
		return &paramNode{kind: paramString, text: v}, nil
	case json.Number:
		return &paramNode{kind: paramNumber, text: v.String()}, nil
	case bool:
		return &paramNode{kind: paramBool, text: strconv.FormatBool(v)}, nil
	default: // nil
		return &paramNode{kind: paramString}, nil
	}
}

// object reads the members of an object whose '{' was just read, and its '}'.
func (p *jsonParamParser) object(depth int, path string) (*paramNode, error) {
	n := &paramNode{kind: paramHash}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, invalidJSON(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, casapay.InvalidParam("", "", "Invalid JSON received: object keys must be strings.")
		}
		if tok, err = p.dec.Token(); err != nil {
			return nil, invalidJSON(err)
		}
		child, err := p.value(tok, depth+1, paramPath(path, key))
		if err != nil {
			return nil, err
		}
		n.setChild(key, child)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, invalidJSON(err)
	}
	return n, nil
}

// array reads the elements of an array whose '[' was just read, and its ']'.
func (p *jsonParamParser) array(depth int, path string) (*paramNode, error) {
	n := &paramNode{kind: paramList}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, invalidJSON(err)
		}
		child, err := p.value(tok, depth+1, paramPath(path, strconv.Itoa(len(n.items))))
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, child)
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, invalidJSON(err)
	}
	return n, nil
}

func invalidJSON(err error) *casapay.Error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return casapay.InvalidParam("", "", "Invalid JSON received: %v. The body must be a JSON object.", err)
}

// mergeParamTrees adds src's parameters (from a JSON body) to dst (from the query string): hashes
// merge key by key, arrays concatenate, and a src value replaces a dst value.
func mergeParamTrees(dst, src *paramNode, path string) error {
	for _, key := range src.keys {
		s, d, p := src.hash[key], dst.hash[key], paramPath(path, key)
		switch {
		case d == nil || d.leaf() && s.leaf():
			dst.setChild(key, s)
		case d.kind == paramHash && s.kind == paramHash:
			if err := mergeParamTrees(d, s, p); err != nil {
				return err
			}
		case d.kind == paramList && s.kind == paramList:
			d.items = append(d.items, s.items...)
		default:
			return conflictingParam(p, d.kind, s.kind)
		}
	}
	return nil
}

func conflictingParam(param string, first, second paramKind) *casapay.Error {
	return casapay.InvalidParam("", param, "Invalid parameters: %s was sent both as %v and as %v.", param, first, second)
}

// unknownParam is the error of a parameter no endpoint takes. Its name is echoed as echo makes it: a
// client may send anything as a name.
func unknownParam(param string) *casapay.Error {
	param = echo(param)
	return casapay.InvalidParam(casapay.CodeParameterUnknown, param, "Received unknown parameter: %s", param)
}

// maxEcho is how much of a name or path a client sent an error message repeats.
const maxEcho = 100

// echo returns a name or path a client sent as an answer or a log may repeat it: its numbers that could
// be a card or bank account number masked (redactNumbers), and cut to maxEcho characters with an ellipsis.
func echo(s string) string {
	s = redactNumbers(s)
	if utf8.RuneCountInString(s) <= maxEcho {
		return s
	}
	return string([]rune(s)[:maxEcho]) + "…"
}

// accountNumber matches what could be a card or bank account number: 8 digits or more, in groups
// separated by single spaces or dashes or not at all. IDs are random base62, so one rarely holds a run.
var accountNumber = regexp.MustCompile(`[0-9](?:[ -]?[0-9]){7,}`)

// redactNumbers masks in s every run of digits that could be a card or bank account number, so that a
// number pasted where an ID or a name belongs is never repeated back or logged.
func redactNumbers(s string) string {
	// Most of what passes here (every logged path) holds fewer digits than a number has: skip the
	// regular expression, which would cost as much as the rest of the log line.
	digits := 0
	for i := range len(s) {
		if '0' <= s[i] && s[i] <= '9' {
			digits++
		}
	}
	if digits < 8 {
		return s
	}
	return accountNumber.ReplaceAllLiteralString(s, "[number]")
}
