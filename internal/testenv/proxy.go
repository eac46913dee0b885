package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/bulkhead-dev/bulkhead/internal/devcluster"
	"github.com/bulkhead-dev/bulkhead/internal/proxy"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// ProxyServiceAccount is the service account bulkhead-proxy runs as, with
// the RBAC of config/proxy and nothing more.
const ProxyServiceAccount = "bulkhead-proxy"

// PrepareProxy installs config/proxy (the proxy's service account and
// RBAC) on a cluster started with TenantView and returns a config of that
// service account (a token good for a day).
func PrepareProxy(ctx context.Context, cluster *devcluster.Cluster) (*rest.Config, error) {
	if cluster.TenantView == nil {
		return nil, fmt.Errorf("the cluster was started without TenantView: its API server asks no authorization webhook")
	}
	if out, err := Kubectl(cluster, "apply", "--server-side", "-k", filepath.Join(RepoRoot(), "config", "proxy")); err != nil {
		return nil, fmt.Errorf("applying config/proxy: %w: %s", err, out)
	}
	return TokenConfig(ctx, cluster, cluster.Config.Host, render.DefaultSettings().ManagerNamespace, ProxyServiceAccount, 24*3600)
}

// TokenConfig is a config of service account namespace/name, with a token
// good for seconds that the cluster's admin asked for (TokenRequest), for
// the API server at host (the cluster's, or bulkhead-proxy's address).
func TokenConfig(ctx context.Context, cluster *devcluster.Cluster, host, namespace, name string, seconds int64) (*rest.Config, error) {
	cs, err := kubernetes.NewForConfig(cluster.Config)
	if err != nil {
		return nil, err
	}
	tok, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(seconds)}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("a token for %s/%s: %w", namespace, name, err)
	}
	return &rest.Config{Host: host, TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}, BearerToken: tok.Status.Token, QPS: 200, Burst: 400}, nil
}

// StartProxy runs bulkhead-proxy in this process on a cluster started with
// TenantView, as its service account under config/proxy's RBAC: tenants
// reach it on a free port, the API server its authorization webhook on the
// port it was configured with.
func StartProxy(ctx context.Context, cluster *devcluster.Cluster) (*proxy.Server, error) {
	cfg, err := PrepareProxy(ctx, cluster)
	if err != nil {
		return nil, err
	}
	tv := cluster.TenantView
	return proxy.Start(ctx, proxy.Options{
		Config: cfg, Addr: "127.0.0.1:0",
		AuthorizationAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tv.AuthorizationPort)),
		CertFile:          tv.CertFile, KeyFile: tv.KeyFile, ClientCAFile: tv.ClientCAFile,
		AuthorizationCallers: []string{devcluster.WebhookClientName},
		TokenTTL:             10 * time.Second,
		Settings:             render.DefaultSettings(),
	})
}

// StartProxyProcess runs bin/bulkhead-proxy as a process of its own, as
// StartProxy does in this one, listening for tenants on port; it logs to
// the cluster's logs/bulkhead-proxy.log and keeps running after this
// process ends.
func StartProxyProcess(ctx context.Context, cluster *devcluster.Cluster, port int) (*exec.Cmd, error) {
	cfg, err := PrepareProxy(ctx, cluster)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(cluster.Dir, "bulkhead-proxy.kubeconfig")
	kc := clientcmdapi.NewConfig()
	kc.Clusters["devcluster"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["bulkhead-proxy"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["devcluster"] = &clientcmdapi.Context{Cluster: "devcluster", AuthInfo: "bulkhead-proxy"}
	kc.CurrentContext = "devcluster"
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(cluster.Dir, "logs", "bulkhead-proxy.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	tv := cluster.TenantView
	cmd := exec.Command(filepath.Join(RepoRoot(), "bin", "bulkhead-proxy"),
		"--kubeconfig", kubeconfig, "--listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		"--authorization-listen", net.JoinHostPort("127.0.0.1", strconv.Itoa(tv.AuthorizationPort)),
		"--tls-cert-file", tv.CertFile, "--tls-private-key-file", tv.KeyFile, "--client-ca-file", tv.ClientCAFile,
		"--authorization-callers", devcluster.WebhookClientName, "--development")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting bin/bulkhead-proxy (make build writes it): %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	err = WaitForTLS(port, time.Minute, nil, func() error {
		select {
		case <-exited:
			return fmt.Errorf("bulkhead-proxy exited; see %s", logFile.Name())
		default:
			return nil
		}
	})
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return cmd, nil
}

// ProxyConfig is a config for user in groups, authenticated by a client
// certificate the cluster's CA signed, that reaches the API server through
// the proxy at addr.
func ProxyConfig(cluster *devcluster.Cluster, addr, user string, groups ...string) (*rest.Config, error) {
	return certConfig(cluster, "https://"+addr, user, groups...)
}

// DirectConfig is the same identity going straight to the API server.
func DirectConfig(cluster *devcluster.Cluster, user string, groups ...string) (*rest.Config, error) {
	return certConfig(cluster, cluster.Config.Host, user, groups...)
}

func certConfig(cluster *devcluster.Cluster, host, user string, groups ...string) (*rest.Config, error) {
	cert, key, err := cluster.IssueUser(user, groups...)
	if err != nil {
		return nil, err
	}
	return &rest.Config{Host: host, TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData, CertData: cert, KeyData: key}, QPS: 100, Burst: 200}, nil
}
