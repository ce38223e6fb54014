package dev.bowline.controlplane.xds.server;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.ControlPlane;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One generator output as every equivalent stream sends it: the packed resources by name, their
 * versions, and the SotW response without its nonce. Built once per (push, equivalence class, type,
 * requested names); a stream adds only its nonce (a copy of the resource list's references, not of
 * the resources).
 *
 * @param resources the packed resources by name
 * @param versions name to content version, for "did anything change" checks
 * @param sotw the SotW response for these resources, nonce unset
 */
record Generated(
    SortedMap<String, GeneratedResource> resources,
    Map<String, String> versions,
    DiscoveryResponse sotw) {
  static Generated of(
      SortedMap<String, Message> out, String typeUrl, long pushVersion, ControlPlane controlPlane) {
    SortedMap<String, GeneratedResource> packed = new TreeMap<>();
    Map<String, String> versions = new LinkedHashMap<>();
    DiscoveryResponse.Builder sotw =
        DiscoveryResponse.newBuilder()
            .setVersionInfo(Long.toString(pushVersion))
            .setTypeUrl(typeUrl)
            .setControlPlane(controlPlane);
    out.forEach(
        (name, msg) -> {
          GeneratedResource r = GeneratedResource.of(name, msg);
          packed.put(name, r);
          versions.put(name, r.version());
          sotw.addResources(r.any());
        });
    return new Generated(
        Collections.unmodifiableSortedMap(packed),
        Collections.unmodifiableMap(versions),
        sotw.build());
  }
}
