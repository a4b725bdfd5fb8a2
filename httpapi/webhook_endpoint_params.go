package httpapi

import (
	"net/http"
	"strconv"

	"github.com/casapay/casapay"
)

// This file binds the parameters of the webhook endpoint endpoints.

// decodeWebhookEndpointCreate returns the parameters of POST /v1/webhook_endpoints, validated.
func decodeWebhookEndpointCreate(r *http.Request, livemode bool) (*casapay.WebhookEndpointParams, error) {
	return decodeWebhookEndpointParams(r, true, livemode)
}

// decodeWebhookEndpointUpdate returns the parameters of POST /v1/webhook_endpoints/{id}, validated.
func decodeWebhookEndpointUpdate(r *http.Request, livemode bool) (*casapay.WebhookEndpointParams, error) {
	return decodeWebhookEndpointParams(r, false, livemode)
}

func decodeWebhookEndpointParams(r *http.Request, create, livemode bool) (*casapay.WebhookEndpointParams, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	p := &casapay.WebhookEndpointParams{}
	for _, key := range root.keys {
		n := root.hash[key]
		switch {
		case key == "url":
			p.URL, err = bindString(n, key)
		case key == "enabled_events":
			p.EnabledEvents, err = bindStrings(n, key)
		case key == "description":
			p.Description, err = bindString(n, key)
		case key == "disabled" && !create:
			p.Disabled, err = bindBool(n, key)
		case key == "metadata":
			p.Metadata, p.ClearMetadata, err = bindMetadata(n, key)
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.Validate(create, livemode); err != nil {
		return nil, err
	}
	return p, nil
}

// bindStrings reads an array of strings. An empty array reads as an empty, not nil, slice.
func bindStrings(n *paramNode, param string) ([]string, error) {
	items, err := bindList(n, param)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := bindString(item, paramPath(param, strconv.Itoa(i)))
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, nil
}

// bindBool reads a boolean given as true or false (from a form) or a JSON boolean.
func bindBool(n *paramNode, param string) (*bool, error) {
	if n.kind == paramString || n.kind == paramBool {
		switch n.text {
		case "true":
			v := true
			return &v, nil
		case "false":
			v := false
			return &v, nil
		}
	}
	return nil, casapay.InvalidParam("parameter_invalid_boolean", param, "Invalid boolean: %s must be true or false.", param)
}

// decodeWebhookEndpointList returns the filter of GET /v1/webhook_endpoints.
func decodeWebhookEndpointList(r *http.Request) (*casapay.WebhookEndpointFilter, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	f := &casapay.WebhookEndpointFilter{Limit: casapay.DefaultListLimit}
	pg := page{prefix: "we", noun: "webhook endpoint", limit: &f.Limit, startingAfter: &f.StartingAfter, endingBefore: &f.EndingBefore}
	for _, key := range root.keys {
		ok, err := pg.bind(root.hash[key], key)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, unknownParam(key)
		}
	}
	if err := pg.check(); err != nil {
		return nil, err
	}
	return f, nil
}
