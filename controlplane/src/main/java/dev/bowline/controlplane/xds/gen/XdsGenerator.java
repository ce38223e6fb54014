package dev.bowline.controlplane.xds.gen;

import com.google.protobuf.Message;
import dev.bowline.controlplane.model.Proxy;
import dev.bowline.controlplane.model.PushContext;
import java.util.SortedMap;

/**
 * Generates the resources of one xDS type for one proxy: a pure function of the proxy, the push
 * context and the requested names, so its output may be shared by every proxy of the same
 * equivalence class.
 */
@FunctionalInterface
public interface XdsGenerator {
  /**
   * The resources by name. Requested names that don't exist are absent from the result (the server
   * tells the client they don't exist); with a wildcard request every resource is returned.
   */
  SortedMap<String, Message> generate(Proxy proxy, PushContext push, ResourceNames names);
}
