package casapay

import (
	"context"
	"encoding/json"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on webhook endpoints.
const (
	MaxWebhookEndpoints       = 16   // per account and mode
	MaxWebhookURLLength       = 2048 // characters
	MaxWebhookDescriptionSize = 5000 // characters
)

// Webhook endpoint statuses.
const (
	WebhookEnabled  = "enabled"
	WebhookDisabled = "disabled"
)

// WebhookEndpoint is a URL that receives an account's events, in one mode. Its JSON is the API's
// webhook_endpoint object; Secret is in it only when ShowSecret is set, as the create's answer shows it.
type WebhookEndpoint struct {
	ID            string
	URL           string
	EnabledEvents []string // event types, or "*" for every type
	Status        string   // WebhookEnabled or WebhookDisabled
	Description   *string
	Metadata      map[string]string
	APIVersion    string
	Created       int64 // Unix seconds
	Livemode      bool
	// Secret (whsec_…) keys the signature of every delivery. It is shown once, when the endpoint is created.
	Secret     string
	ShowSecret bool
}

type webhookEndpointWire struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	APIVersion    string            `json:"api_version"`
	Created       int64             `json:"created"`
	Description   *string           `json:"description"`
	EnabledEvents []string          `json:"enabled_events"`
	Livemode      bool              `json:"livemode"`
	Metadata      map[string]string `json:"metadata"`
	Secret        string            `json:"secret,omitempty"`
	Status        string            `json:"status"`
	URL           string            `json:"url"`
}

// MarshalJSON writes the webhook_endpoint object.
func (w WebhookEndpoint) MarshalJSON() ([]byte, error) {
	wire := webhookEndpointWire{ID: w.ID, Object: "webhook_endpoint", APIVersion: w.APIVersion, Created: w.Created,
		Description: w.Description, EnabledEvents: w.EnabledEvents, Livemode: w.Livemode, Metadata: w.Metadata,
		Status: w.Status, URL: w.URL}
	if w.ShowSecret {
		wire.Secret = w.Secret
	}
	if wire.Metadata == nil {
		wire.Metadata = map[string]string{}
	}
	if wire.EnabledEvents == nil {
		wire.EnabledEvents = []string{}
	}
	return json.Marshal(wire)
}

// Subscribes reports whether the endpoint receives events of type typ.
func (w *WebhookEndpoint) Subscribes(typ string) bool {
	return slices.Contains(w.EnabledEvents, "*") || slices.Contains(w.EnabledEvents, typ)
}

// WebhookEndpointParams are the parameters of a webhook endpoint create or update. A nil field was not
// given.
type WebhookEndpointParams struct {
	URL           *string           `json:"url,omitempty"`
	EnabledEvents []string          `json:"enabled_events,omitempty"`
	Description   *string           `json:"description,omitempty"`
	Disabled      *bool             `json:"disabled,omitempty"` // update only
	Metadata      map[string]string `json:"metadata,omitempty"`
	ClearMetadata bool              `json:"clear_metadata,omitempty"`
}

// Validate checks the parameters of a create (create true: url and enabled_events required) or an
// update: the URL's form (see CheckWebhookURL, without resolving it), the event types, the description.
func (p *WebhookEndpointParams) Validate(create, livemode bool) error {
	if create && p.URL == nil {
		return InvalidParam(CodeParameterMissing, "url", "Missing required param: url.")
	}
	if create && p.EnabledEvents == nil {
		return InvalidParam(CodeParameterMissing, "enabled_events", "Missing required param: enabled_events.")
	}
	if p.URL != nil {
		if _, err := ParseWebhookURL(*p.URL, livemode); err != nil {
			return err
		}
	}
	if p.EnabledEvents != nil && len(p.EnabledEvents) == 0 {
		return InvalidParam(CodeParameterInvalidEmpty, "enabled_events", "Invalid enabled_events: name at least one event type, or *.")
	}
	for i, t := range p.EnabledEvents {
		if t != "*" && !slices.Contains(EventTypes, t) {
			return InvalidParam(CodeParameterInvalidString, paramIndex("enabled_events", i),
				"Invalid enabled_events: %q is not an event type. Known types: *, %s.", t, strings.Join(EventTypes, ", "))
		}
	}
	if p.Description != nil && utf8.RuneCountInString(*p.Description) > MaxWebhookDescriptionSize {
		return InvalidParam(CodeParameterInvalidString, "description",
			"Invalid string: description must be at most %d characters long.", MaxWebhookDescriptionSize)
	}
	return (&CustomerParams{Metadata: p.Metadata}).Validate()
}

func paramIndex(param string, i int) string { return param + "[" + strconv.Itoa(i) + "]" }

// ParseWebhookURL checks the form of a webhook endpoint's URL: absolute http or https (https in live
// mode), a host, no user info, at most MaxWebhookURLLength characters. Where its host leads is
// CheckWebhookHost's to check.
func ParseWebhookURL(raw string, livemode bool) (*url.URL, error) {
	bad := func(why string) error {
		return InvalidParam("url_invalid", "url", "Invalid URL: %s.", why)
	}
	if utf8.RuneCountInString(raw) > MaxWebhookURLLength {
		return nil, bad("it can be at most 2048 characters long")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, bad("it must be an absolute http or https URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("its scheme must be http or https")
	case u.User != nil:
		return nil, bad("it must not hold a user name or password")
	case livemode && u.Scheme != "https":
		return nil, bad("a live-mode endpoint must use https")
	}
	return u, nil
}

// CheckWebhookHost checks, for a live-mode endpoint, that the host of u resolves (with lookup) only to
// public addresses (see PublicAddress), unless allowPrivate. Every delivery checks the address it
// connects to again, so a name that later resolves elsewhere still reaches nothing inside.
func CheckWebhookHost(ctx context.Context, lookup func(ctx context.Context, host string) ([]netip.Addr, error),
	u *url.URL, livemode, allowPrivate bool) error {
	if !livemode || allowPrivate {
		return nil
	}
	host := u.Hostname()
	addrs := []netip.Addr{}
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, ip)
	} else if addrs, err = lookup(ctx, host); err != nil || len(addrs) == 0 {
		return InvalidParam("url_invalid", "url", "Invalid URL: its host could not be resolved.")
	}
	for _, a := range addrs {
		if !PublicAddress(a) {
			return InvalidParam("url_invalid", "url",
				"Invalid URL: a live-mode endpoint must not resolve to a loopback, private, link-local or unspecified address.")
		}
	}
	return nil
}

// PublicAddress reports whether ip may receive live-mode webhooks: not loopback, private, link-local,
// unspecified, multicast or otherwise reserved for use inside a network.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// reservedPrefixes are the ranges beyond netip's predicates that reach inside a network: carrier-grade
// NAT, "this network", benchmarking, IPv4-mapped and NAT64 forms, and the like.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relays
	netip.MustParsePrefix("::/96"),           // IPv4-compatible, ::7f00:1 is 127.0.0.1
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (::ffff:0:7f00:1)
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),      // discard
	netip.MustParsePrefix("2001::/32"),     // Teredo: an IPv4 address inside
	netip.MustParsePrefix("2001:db8::/32"), // documentation
	netip.MustParsePrefix("2002::/16"),     // 6to4: an IPv4 address inside
	netip.MustParsePrefix("fec0::/10"),     // site-local
}

// NewWebhookEndpoint returns the endpoint a create's parameters describe, in scope's mode, with a new
// ID that sorts by now and a new secret. p must have passed Validate.
func NewWebhookEndpoint(scope Scope, p *WebhookEndpointParams, now time.Time) *WebhookEndpoint {
	w := &WebhookEndpoint{
		ID:            NewTimeID("we", now),
		URL:           *p.URL,
		EnabledEvents: distinct(p.EnabledEvents),
		Status:        WebhookEnabled,
		Metadata:      map[string]string{},
		APIVersion:    APIVersion,
		Created:       now.Unix(),
		Livemode:      scope.Livemode,
		Secret:        "whsec_" + randomBase62(32), // about 190 bits
	}
	setOptional(&w.Description, p.Description)
	w.applyMetadata(p)
	return w
}

// Apply changes w as an update with p would.
func (w *WebhookEndpoint) Apply(p *WebhookEndpointParams) error {
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.EnabledEvents != nil {
		w.EnabledEvents = distinct(p.EnabledEvents)
	}
	setOptional(&w.Description, p.Description)
	if p.Disabled != nil {
		w.Status = WebhookEnabled
		if *p.Disabled {
			w.Status = WebhookDisabled
		}
	}
	return w.applyMetadata(p)
}

func (w *WebhookEndpoint) applyMetadata(p *WebhookEndpointParams) error {
	metadata, err := mergeMetadata(w.Metadata, p.Metadata, p.ClearMetadata)
	if err != nil {
		return err
	}
	w.Metadata = metadata
	return nil
}

// distinct returns the strings of ss, each once, in the order they first appear.
func distinct(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// DeletedWebhookEndpoint is what a delete answers.
type DeletedWebhookEndpoint struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// ErrTooManyWebhookEndpoints is the error of a create beyond MaxWebhookEndpoints.
func ErrTooManyWebhookEndpoints() *Error {
	return InvalidParam("webhook_endpoint_limit", "",
		"You have reached the maximum of %d webhook endpoints in this mode.", MaxWebhookEndpoints)
}
