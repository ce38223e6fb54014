package dev.bowline.controlplane.model;

/**
 * The mutual TLS a workload port accepts, after PeerAuthentication's inheritance (UNSET resolved):
 * STRICT takes mTLS only, PERMISSIVE both mTLS and plaintext, DISABLE plaintext only.
 */
public enum MtlsMode {
  STRICT,
  PERMISSIVE,
  DISABLE
}
