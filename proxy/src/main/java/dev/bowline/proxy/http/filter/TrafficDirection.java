package dev.bowline.proxy.http.filter;

/** Envoy's {@code traffic_direction} of the listener a filter runs on. */
public enum TrafficDirection {
  UNSPECIFIED,
  INBOUND,
  OUTBOUND
}
