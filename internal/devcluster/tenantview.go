package devcluster

import (
	"path/filepath"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiserverv1 "k8s.io/apiserver/pkg/apis/apiserver/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/bulkhead-dev/bulkhead/internal/pki"
)

// TenantView is where the API server asks bulkhead-proxy's authorization
// webhook about tenants' namespace, node and Tenant reads, and what the
// proxy needs to serve it and its tenants.
type TenantView struct {
	// AuthorizationPort is where the API server calls the authorization
	// webhook: https://127.0.0.1:<port>/authorize.
	AuthorizationPort int
	// CertFile and KeyFile are a serving certificate for 127.0.0.1 and
	// localhost that the cluster's CA signed: the API server trusts it for
	// the webhook, and tenants' kubeconfigs trust it for the proxy.
	CertFile, KeyFile string
	// ClientCAFile signs tenants' client certificates, and the API
	// server's webhook client certificate (WebhookClientName).
	ClientCAFile string
}

// authorizationPath is where the webhook listens.
const authorizationPath = "/authorize"

// tenantView issues the proxy's serving certificate and writes the API
// server's authorization configuration: Node and RBAC first, then the
// webhook, asked only about the reads it may allow, and with no opinion
// when it cannot be reached (RBAC's denial stands).
func (c *Cluster) tenantView(ca *pki.CA, pkiDir string, webhookClientCert, webhookClientKey []byte, now time.Time) (apiserverArg string, err error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	cert, key, err := ca.Issue(pki.Leaf{CommonName: "bulkhead-proxy", Hosts: []string{"127.0.0.1", "localhost"}, Lifetime: 365 * 24 * time.Hour}, now)
	if err != nil {
		return "", err
	}
	p := func(n string) string { return filepath.Join(pkiDir, n) }
	kubeconfig, err := filepath.Abs(p("authorization-webhook.kubeconfig"))
	if err != nil {
		return "", err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["bulkhead"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:" + strconv.Itoa(port) + authorizationPath, CertificateAuthorityData: ca.CertPEM}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{ClientCertificateData: webhookClientCert, ClientKeyData: webhookClientKey}
	cfg.Contexts["bulkhead"] = &clientcmdapi.Context{Cluster: "bulkhead", AuthInfo: "apiserver"}
	cfg.CurrentContext = "bulkhead"
	kubeconfigData, err := clientcmd.Write(*cfg)
	if err != nil {
		return "", err
	}
	authz, err := yaml.Marshal(AuthorizationConfig(kubeconfig))
	if err != nil {
		return "", err
	}
	if err := writeFiles(map[string][]byte{
		p("proxy.crt"): cert, p("proxy.key"): key, kubeconfig: kubeconfigData, p("authorization.yaml"): authz,
	}); err != nil {
		return "", err
	}
	c.TenantView = &TenantView{AuthorizationPort: port, CertFile: p("proxy.crt"), KeyFile: p("proxy.key"), ClientCAFile: p("ca.crt")}
	return "--authorization-config=" + p("authorization.yaml"), nil
}

// AuthorizationConfig is the API server's authorization chain with
// bulkhead-proxy's webhook last, reached through kubeconfig. Its match
// conditions send it only reads of namespaces, nodes, Tenants and classes by
// identities that are not the control plane's; decisions are cached
// briefly, so that a change of membership is followed within seconds.
func AuthorizationConfig(kubeconfig string) *apiserverv1.AuthorizationConfiguration {
	return &apiserverv1.AuthorizationConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: "apiserver.config.k8s.io/v1", Kind: "AuthorizationConfiguration"},
		Authorizers: []apiserverv1.AuthorizerConfiguration{
			{Type: "Node", Name: "node"},
			{Type: "RBAC", Name: "rbac"},
			{Type: "Webhook", Name: "bulkhead-tenant-view", Webhook: &apiserverv1.WebhookConfiguration{
				AuthorizedTTL:                            metav1.Duration{Duration: 5 * time.Second},
				CacheAuthorizedRequests:                  ptr.To(true),
				UnauthorizedTTL:                          metav1.Duration{Duration: 5 * time.Second},
				CacheUnauthorizedRequests:                ptr.To(true),
				Timeout:                                  metav1.Duration{Duration: 3 * time.Second},
				SubjectAccessReviewVersion:               "v1",
				MatchConditionSubjectAccessReviewVersion: "v1",
				FailurePolicy:                            "NoOpinion",
				ConnectionInfo:                           apiserverv1.WebhookConnectionInfo{Type: "KubeConfigFile", KubeConfigFile: ptr.To(kubeconfig)},
				MatchConditions: []apiserverv1.WebhookMatchCondition{
					{Expression: "has(request.resourceAttributes)"},
					{Expression: "request.resourceAttributes.verb in ['get', 'list', 'watch']"},
					{Expression: "(request.resourceAttributes.group == '' && request.resourceAttributes.resource in ['namespaces', 'nodes']) || " +
						"(request.resourceAttributes.group == 'tenancy.bulkhead.dev' && request.resourceAttributes.resource == 'tenants') || " +
						"(request.resourceAttributes.group + '/' + request.resourceAttributes.resource) in ['storage.k8s.io/storageclasses', 'networking.k8s.io/ingressclasses', 'scheduling.k8s.io/priorityclasses', 'node.k8s.io/runtimeclasses']"},
					{Expression: "!('system:masters' in request.groups)"},
					{Expression: "!request.user.startsWith('system:') || request.user.startsWith('system:serviceaccount:')"},
				},
			}},
		},
	}
}

// IssueUser issues a client certificate for user in groups, signed by the
// cluster's CA, which the API server (and bulkhead-proxy) authenticate.
func (c *Cluster) IssueUser(user string, groups ...string) (certPEM, keyPEM []byte, err error) {
	return c.ca.Issue(pki.Leaf{CommonName: user, Organizations: groups, Lifetime: 30 * 24 * time.Hour}, time.Now())
}

// WriteUserKubeconfig writes a kubeconfig at path for user in groups, with
// a client certificate the cluster's CA signed, for the API server at
// server (bulkhead-proxy's address, say), trusting the cluster's CA.
func (c *Cluster) WriteUserKubeconfig(path, server, user string, groups ...string) error {
	cert, key, err := c.IssueUser(user, groups...)
	if err != nil {
		return err
	}
	return writeKubeconfigAs(path, server, c.Config.CAData, &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key})
}
