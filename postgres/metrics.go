package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Collectors returns the store's Prometheus collectors, for the caller to register: its connection
// pool's statistics (casapay_postgres_pool_*), read from pgxpool at each scrape. They belong to this
// store alone; register them once, in one registry.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{newPoolCollector(s.pool)}
}

// poolCollector turns pgxpool.Stat into metrics. It reads the figures when scraped instead of copying
// them into gauges as they change, so a scrape costs one Stat call and the pool does no extra work.
type poolCollector struct {
	pool *pgxpool.Pool

	acquired, idle, total, max              *prometheus.Desc
	acquires, acquireSeconds, emptyAcquires *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("casapay_postgres_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		pool:           pool,
		acquired:       desc("acquired_conns", "Connections in use by a query or transaction."),
		idle:           desc("idle_conns", "Open connections waiting to be used."),
		total:          desc("total_conns", "Open connections: acquired, idle and being opened."),
		max:            desc("max_conns", "The most connections the pool opens (pool_max_conns)."),
		acquires:       desc("acquires_total", "Connections handed out by the pool."),
		acquireSeconds: desc("acquire_seconds_total", "Time spent waiting for a connection, summed over every acquire."),
		emptyAcquires: desc("empty_acquires_total",
			"Acquires that found no idle connection and had to wait for one to be released or opened."),
	}
}

// Describe sends the descriptions of every metric Collect sends.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.acquireSeconds, c.emptyAcquires} {
		ch <- d
	}
}

// Collect sends the pool's current statistics.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(st.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(st.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(st.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(st.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireSeconds, prometheus.CounterValue, st.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
}
