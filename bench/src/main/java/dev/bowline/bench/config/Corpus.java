package dev.bowline.bench.config;

/**
 * Typical Istio resources, as a team writes them for one service: a VirtualService with a canary
 * match and a weighted split, a DestinationRule with subsets and a traffic policy, a ServiceEntry,
 * two WorkloadEntries, a Gateway, a PeerAuthentication and an AuthorizationPolicy. Each copy gets
 * its own names so nothing is shared between copies.
 */
final class Corpus {
  private Corpus() {}

  /** Resources per {@link #service(int)}. */
  static final int PER_SERVICE = 8;

  static String service(int i) {
    String s = "svc-" + i;
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %1$s, namespace: team-%2$d, labels: {app: %1$s}}
        spec:
          hosts: [%1$s]
          http:
          - name: canary
            match:
            - headers:
                x-canary: {exact: "true"}
              uri: {prefix: /api/%1$s}
            route:
            - destination: {host: %1$s, subset: v2, port: {number: 8080}}
            timeout: 2s
            retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,reset,connect-failure"}
          - route:
            - destination: {host: %1$s, subset: v1}
              weight: 90
            - destination: {host: %1$s, subset: v2}
              weight: 10
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: %1$s, namespace: team-%2$d}
        spec:
          host: %1$s.team-%2$d.svc.cluster.local
          trafficPolicy:
            connectionPool:
              tcp: {maxConnections: 100, connectTimeout: 30ms}
              http: {http2MaxRequests: 1000, maxRequestsPerConnection: 10}
            outlierDetection: {consecutive5xxErrors: 7, interval: 5m, baseEjectionTime: 15m}
            loadBalancer: {simple: LEAST_REQUEST}
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        ---
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: %1$s, namespace: team-%2$d}
        spec:
          hosts: [%1$s.team-%2$d.svc.cluster.local]
          location: MESH_INTERNAL
          resolution: STATIC
          ports:
          - {number: 8080, name: http, protocol: HTTP}
          workloadSelector:
            labels: {app: %1$s}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: %1$s-v1, namespace: team-%2$d}
        spec: {address: 10.%3$d.%4$d.1, labels: {app: %1$s, version: v1}, serviceAccount: %1$s, ports: {http: 8080}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: %1$s-v2, namespace: team-%2$d}
        spec: {address: 10.%3$d.%4$d.2, labels: {app: %1$s, version: v2}, serviceAccount: %1$s, ports: {http: 8080}}
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: %1$s-gw, namespace: team-%2$d}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: ["%1$s.example.com"]
            tls: {mode: SIMPLE, credentialName: %1$s-cert}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: %1$s, namespace: team-%2$d}
        spec:
          selector: {matchLabels: {app: %1$s}}
          mtls: {mode: STRICT}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: %1$s, namespace: team-%2$d}
        spec:
          selector: {matchLabels: {app: %1$s}}
          rules:
          - from:
            - source: {principals: [cluster.local/ns/team-%2$d/sa/frontend]}
            to:
            - operation: {methods: [GET, POST], paths: [/api/*]}
        """
        .formatted(s, i % 50, (i / 250) % 250, i % 250);
  }

  /** {@code services} services, as one multi-document YAML text. */
  static String services(int from, int services) {
    StringBuilder sb = new StringBuilder();
    for (int i = from; i < from + services; i++) {
      sb.append("---\n").append(service(i));
    }
    return sb.toString();
  }
}
