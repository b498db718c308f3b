package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/internal/store"
)

var (
	queuedEventsDesc = prometheus.NewDesc("rapport_ingest_queued_events", "Tracking events accepted and not yet applied.", nil, nil)
	queueAgeDesc     = prometheus.NewDesc("rapport_ingest_queue_age_seconds", "How long the oldest waiting tracking request has waited.", nil, nil)
	failedDesc       = prometheus.NewDesc("rapport_ingest_failed_requests", "Tracking requests set aside because they could not be applied (at most 100 counted).", nil, nil)
)

// queueCollector reports the ingest queue on every scrape of /metrics, read
// from the store, so every server sharing a database reports the same.
type queueCollector struct {
	store *store.Store
	log   *slog.Logger
}

// QueueCollector returns a Prometheus collector of the ingest queue's
// depth, age and failures.
func QueueCollector(s *store.Store, log *slog.Logger) prometheus.Collector {
	return queueCollector{store: s, log: log}
}

func (c queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queuedEventsDesc
	ch <- queueAgeDesc
	ch <- failedDesc
}

func (c queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.store.IngestQueueStatus(ctx)
	if err != nil {
		c.log.Warn("read the ingest queue for /metrics", "err", err)
		return
	}
	age := 0.0
	if st.Oldest != nil {
		age = time.Since(*st.Oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(queuedEventsDesc, prometheus.GaugeValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.GaugeValue, float64(len(st.Failed)))
}
