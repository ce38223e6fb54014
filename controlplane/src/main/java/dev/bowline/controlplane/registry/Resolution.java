package dev.bowline.controlplane.registry;

/**
 * How a proxy finds a service's endpoints, as Istio's ServiceEntry {@code resolution}: {@link
 * #STATIC} endpoints come from the registry over EDS (also Kubernetes and local services), {@link
 * #DNS} and {@link #DNS_ROUND_ROBIN} are resolved by the proxy ({@code STRICT_DNS}, {@code
 * LOGICAL_DNS} clusters), {@link #NONE} forwards to the original destination ({@code
 * ORIGINAL_DST}).
 */
public enum Resolution {
  STATIC,
  DNS,
  DNS_ROUND_ROBIN,
  NONE
}
