package dev.bowline.proxy;

import com.google.protobuf.Any;
import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.FieldMaskUtil;
import com.google.protobuf.util.JsonFormat;
import dev.bowline.proxy.bootstrap.SupportedTypes;
import dev.bowline.proxy.xds.XdsState;
import io.envoyproxy.envoy.admin.v3.BootstrapConfigDump;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.Comparator;
import java.util.List;

/** Builds Envoy's {@code /config_dump} from the bootstrap and the accepted xDS resources. */
final class ConfigDumps {
  private ConfigDumps() {}

  /**
   * The config dump; a dynamic listener {@code removed} names is left out (its bind after warming
   * failed, and Envoy removed it).
   */
  static String render(
      Bootstrap bootstrap,
      Timestamp started,
      XdsState xds,
      boolean includeEds,
      java.util.function.Predicate<String> removed) {
    return render(bootstrap, started, xds, includeEds, removed, null, null, null).body();
  }

  /**
   * Envoy's {@code /config_dump} with its parameters ({@code ConfigDumpHandler}): {@code nameRegex}
   * keeps the resources whose names it matches in full; {@code resource} dumps each element of the
   * repeated field of that name (404 if no dump has it, 400 if it is not repeated); {@code mask}, a
   * field mask, trims each dump (those it does not fit are left out, a 400 if it fits none) or,
   * with {@code resource}, each element, through the element's {@code Any} as Envoy does.
   */
  static dev.bowline.proxy.admin.AdminView.Reply render(
      Bootstrap bootstrap,
      Timestamp started,
      XdsState xds,
      boolean includeEds,
      java.util.function.Predicate<String> removed,
      @org.jspecify.annotations.Nullable String resource,
      @org.jspecify.annotations.Nullable String mask,
      @org.jspecify.annotations.Nullable String nameRegex) {
    java.util.function.Predicate<String> named = n -> true;
    if (nameRegex != null && !nameRegex.isEmpty()) {
      try {
        named = java.util.regex.Pattern.compile(nameRegex).asMatchPredicate();
      } catch (java.util.regex.PatternSyntaxException e) {
        return text(
            400,
            "INVALID_ARGUMENT: Error while parsing name_regex from "
                + nameRegex
                + ": "
                + e.getDescription());
      }
    }
    List<Message> configs = configs(bootstrap, started, xds, includeEds, removed, named);
    ConfigDump.Builder dump = ConfigDump.newBuilder();
    if (resource != null) {
      boolean found = false;
      for (Message m : configs) {
        var field = m.getDescriptorForType().findFieldByName(resource);
        if (field == null) {
          continue;
        }
        if (!field.isRepeated()) {
          return text(
              400,
              field.getName()
                  + " is not a repeated field. Use ?mask="
                  + field.getName()
                  + " to get only this field");
        }
        for (int i = 0; i < m.getRepeatedFieldCount(field); i++) {
          Message element = (Message) m.getRepeatedField(field, i);
          if (mask != null) {
            element = trimResource(FieldMaskUtil.fromString(mask), element);
            if (element == null) {
              return text(
                  400,
                  "FieldMask "
                      + FieldMaskUtil.fromString(mask)
                      + " could not be successfully used.");
            }
          }
          dump.addConfigs(Any.pack(element));
        }
        found = true;
        break;
      }
      if (!found) {
        return text(404, resource + " not found in config dump");
      }
    } else {
      for (Message m : configs) {
        if (mask != null) {
          m = trim(FieldMaskUtil.fromString(mask), m);
          if (m == null) {
            continue; // another dump's mask
          }
        }
        dump.addConfigs(Any.pack(m));
      }
      if (dump.getConfigsCount() == 0 && mask != null) {
        return text(
            400, "FieldMask " + mask + " could not be successfully applied to any configs.");
      }
    }
    try {
      return new dev.bowline.proxy.admin.AdminView.Reply(
          200,
          JsonFormat.printer()
              .usingTypeRegistry(SupportedTypes.registry())
              .preservingProtoFieldNames()
              .print(dump),
          "application/json");
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("config dump: " + e.getMessage(), e);
    }
  }

  private static dev.bowline.proxy.admin.AdminView.Reply text(int status, String body) {
    return new dev.bowline.proxy.admin.AdminView.Reply(status, body, "text/plain");
  }

  /** {@code m} trimmed to {@code mask}, or null if a path of the mask is not one of its fields. */
  private static @org.jspecify.annotations.Nullable Message trim(FieldMask mask, Message m) {
    for (String path : mask.getPathsList()) {
      if (!FieldMaskUtil.isValid(m.getDescriptorForType(), path)) {
        return null;
      }
    }
    Message.Builder out = m.newBuilderForType();
    FieldMaskUtil.merge(mask, m, out);
    return out.build();
  }

  /**
   * Envoy's {@code trimResourceMessage}: the paths through the element's one {@code Any} field
   * (such as {@code cluster.name}) trim the message packed in it; the others trim the element.
   */
  private static @org.jspecify.annotations.Nullable Message trimResource(
      FieldMask mask, Message element) {
    var d = element.getDescriptorForType();
    FieldMask.Builder outer = FieldMask.newBuilder();
    FieldMask.Builder inner = FieldMask.newBuilder();
    String anyField = null;
    for (String path : mask.getPathsList()) {
      String[] frags = path.split("\\.", 2);
      var f = d.findFieldByName(frags[0]);
      if (f != null
          && !f.isRepeated()
          && f.getJavaType() == com.google.protobuf.Descriptors.FieldDescriptor.JavaType.MESSAGE
          && f.getMessageType().getFullName().equals("google.protobuf.Any")) {
        anyField = frags[0];
        outer.addPaths(frags[0]);
        inner.addPaths(frags.length > 1 ? frags[1] : "");
      } else {
        outer.addPaths(path);
      }
    }
    if (anyField != null) {
      var f = d.findFieldByName(anyField);
      if (element.hasField(f)) {
        Any any = (Any) element.getField(f);
        String typeName = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
        com.google.protobuf.Descriptors.Descriptor type;
        try {
          type = SupportedTypes.registry().find(typeName);
        } catch (RuntimeException e) {
          return null;
        }
        if (type == null) {
          return null;
        }
        Message unpacked;
        try {
          unpacked = com.google.protobuf.DynamicMessage.parseFrom(type, any.getValue());
        } catch (InvalidProtocolBufferException e) {
          return null;
        }
        Message trimmed = trim(inner.build(), unpacked);
        if (trimmed == null) {
          return null;
        }
        element =
            element.toBuilder()
                .setField(
                    f,
                    Any.newBuilder()
                        .setTypeUrl(any.getTypeUrl())
                        .setValue(trimmed.toByteString())
                        .build())
                .build();
      }
    }
    return trim(outer.build(), element);
  }

  /**
   * The dumps in Envoy's order (bootstrap, clusters, listeners, routes, endpoints with {@code
   * includeEds}), of the resources whose names {@code named} takes.
   */
  private static List<Message> configs(
      Bootstrap bootstrap,
      Timestamp started,
      XdsState xds,
      boolean includeEds,
      java.util.function.Predicate<String> removed,
      java.util.function.Predicate<String> named) {
    List<Message> out = new java.util.ArrayList<>();
    out.add(
        BootstrapConfigDump.newBuilder().setBootstrap(bootstrap).setLastUpdated(started).build());

    ClustersConfigDump.Builder clusters = ClustersConfigDump.newBuilder();
    for (Cluster c : bootstrap.getStaticResources().getClustersList()) {
      if (!named.test(c.getName())) {
        continue;
      }
      clusters.addStaticClusters(
          ClustersConfigDump.StaticCluster.newBuilder()
              .setCluster(Any.pack(c))
              .setLastUpdated(started));
    }
    ListenersConfigDump.Builder listeners = ListenersConfigDump.newBuilder();
    for (Listener l : bootstrap.getStaticResources().getListenersList()) {
      if (!named.test(l.getName())) {
        continue;
      }
      listeners.addStaticListeners(
          ListenersConfigDump.StaticListener.newBuilder()
              .setListener(Any.pack(l))
              .setLastUpdated(started));
    }
    RoutesConfigDump.Builder routes = RoutesConfigDump.newBuilder();
    EndpointsConfigDump.Builder endpoints = EndpointsConfigDump.newBuilder();
    var accepted =
        xds.protos().values().stream()
            .flatMap(byName -> byName.values().stream())
            .sorted(Comparator.comparing(XdsState.Accepted::name))
            .filter(a -> named.test(a.name()))
            .toList();
    for (XdsState.Accepted a : accepted) {
      Timestamp when =
          Timestamp.newBuilder()
              .setSeconds(a.acceptedAtMillis() / 1000)
              .setNanos((int) (a.acceptedAtMillis() % 1000) * 1_000_000)
              .build();
      switch (a.proto()) {
        case Cluster c ->
            clusters.addDynamicActiveClusters(
                ClustersConfigDump.DynamicCluster.newBuilder()
                    .setVersionInfo(a.version())
                    .setCluster(Any.pack(c))
                    .setLastUpdated(when));
        case Listener l when removed.test(l.getName()) -> {}
        case Listener l ->
            listeners.addDynamicListeners(
                ListenersConfigDump.DynamicListener.newBuilder()
                    .setName(l.getName())
                    .setActiveState(
                        ListenersConfigDump.DynamicListenerState.newBuilder()
                            .setVersionInfo(a.version())
                            .setListener(Any.pack(l))
                            .setLastUpdated(when)));
        case RouteConfiguration r ->
            routes.addDynamicRouteConfigs(
                RoutesConfigDump.DynamicRouteConfig.newBuilder()
                    .setVersionInfo(a.version())
                    .setRouteConfig(Any.pack(r))
                    .setLastUpdated(when));
        case ClusterLoadAssignment e ->
            endpoints.addDynamicEndpointConfigs(
                EndpointsConfigDump.DynamicEndpointConfig.newBuilder()
                    .setVersionInfo(a.version())
                    .setEndpointConfig(Any.pack(e))
                    .setLastUpdated(when));
        default -> {}
      }
    }
    out.add(clusters.build());
    out.add(listeners.build());
    out.add(routes.build());
    if (includeEds) {
      out.add(endpoints.build());
    }
    return out;
  }
}
