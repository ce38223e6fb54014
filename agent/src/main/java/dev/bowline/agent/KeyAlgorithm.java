package dev.bowline.agent;

/** The workload key the agent generates. */
public enum KeyAlgorithm {
  /** ECDSA on NIST P-256 (Istio's default for new meshes, and ours). */
  EC_P256,
  /** RSA 2048 (Istio's historic default). */
  RSA_2048
}
