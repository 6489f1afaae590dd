package outbound

import (
	"testing"
	"time"
)

func TestOptionsWithDefaults(t *testing.T) {
	o := Options{}.WithDefaults()
	if o.Clock == nil || o.Logger == nil {
		t.Fatal("clock and logger should default")
	}
	if o.Timeout != 10*time.Second || o.BatchSize != 50 || o.Lease != 20*time.Second+time.Minute {
		t.Errorf("defaults: timeout %v, batch %d, lease %v", o.Timeout, o.BatchSize, o.Lease)
	}
	o = Options{Timeout: time.Second, BatchSize: 3}.WithDefaults()
	if o.Timeout != time.Second || o.BatchSize != 3 || o.Lease != 2*time.Second+time.Minute {
		t.Errorf("set values: timeout %v, batch %d, lease %v", o.Timeout, o.BatchSize, o.Lease)
	}
}
