package devcluster

import (
	"context"
	"strings"
	"testing"
)

func TestStartFailsClearlyWithoutBinaries(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "etcd not found") || !strings.Contains(err.Error(), "make k8s") {
		t.Fatalf("want a clear missing-binary error, got %v", err)
	}
}
