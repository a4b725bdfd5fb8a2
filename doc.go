// Package casapay is CasaPay's domain: customers, events, accounts, API keys, the errors a client may
// see, what a write knows of its request, and Store, the storage contract, one small interface per
// resource. It knows nothing of HTTP or SQL; the httpapi and storage packages build on it, the sqlite
// and postgres packages build on storage, and cmd/casapay wires them together.
package casapay
