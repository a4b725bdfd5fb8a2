// Package casapay is CasaPay's domain: customers, accounts, API keys, the errors a client may see, and
// Store, the one storage contract. It knows nothing of HTTP or SQL; the httpapi, sqlite and postgres
// packages build on it, and cmd/casapay wires them together.
package casapay
