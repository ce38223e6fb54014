package dev.bowline.cli.mesh;

import dev.bowline.cli.mesh.MeshSpec.Port;
import dev.bowline.cli.mesh.MeshSpec.Workload;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where every instance runs: one loopback address {@code 127.0.0.N} per instance (Linux routes all
 * of 127/8 to {@code lo}, so each instance, and later its sidecar, can use the same well-known
 * ports), assigned in file order from a first address.
 *
 * @param spec the mesh
 * @param instances every instance, workload by workload
 * @param meshed whether sidecars sit in front of the apps (then apps listen on their target ports)
 */
public record MeshPlan(MeshSpec spec, List<Instance> instances, boolean meshed) {
  /** Istio's sidecar ports each instance's address needs when meshed: admin, outbound, inbound. */
  static final List<Integer> SIDECAR_PORTS = List.of(15000, 15001, 15006);

  /** Offset added to a service port to get the app's port behind a sidecar, if not given. */
  static final int TARGET_PORT_OFFSET = 10000;

  public MeshPlan {
    instances = List.copyOf(instances);
  }

  /**
   * One instance of a workload.
   *
   * @param workload its workload
   * @param index 0-based replica number
   * @param address its loopback address
   */
  public record Instance(Workload workload, int index, String address) {
    /** {@code <workload>-<index>}: its name in the registry and in its node id. */
    public String name() {
      return workload.name() + "-" + index;
    }

    /** Istio's sidecar node id: {@code sidecar~IP~NAME.NS~NS.svc.cluster.local}. */
    public String nodeId() {
      String ns = workload.namespace();
      return "sidecar~" + address + "~" + name() + "." + ns + "~" + ns + ".svc.cluster.local";
    }
  }

  /**
   * Assigns addresses from {@code first} on, one per instance.
   *
   * @throws IllegalArgumentException if {@code first} is not in 127/8 or the instances do not fit
   *     before 127.x.y.254
   */
  public static MeshPlan assign(MeshSpec spec, String first, boolean meshed) {
    InetAddress a;
    try {
      a = InetAddress.ofLiteral(first);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("first address '" + first + "' is not an IPv4 address");
    }
    if (!(a instanceof Inet4Address) || !a.isLoopbackAddress()) {
      throw new IllegalArgumentException(
          "first address " + first + " is not a loopback address 127.x.y.z");
    }
    byte[] b = a.getAddress();
    int last = Byte.toUnsignedInt(b[3]);
    if (last == 0) {
      throw new IllegalArgumentException(
          "first address " + first + ": the last byte must be 1-254");
    }
    List<Instance> out = new ArrayList<>();
    for (Workload w : spec.workloads()) {
      for (int i = 0; i < w.replicas(); i++) {
        if (last > 254) {
          throw new IllegalArgumentException(
              "no loopback address left for "
                  + w.namespace()
                  + "/"
                  + w.name()
                  + " instance "
                  + i
                  + ": instances from "
                  + first
                  + " must fit before ."
                  + 255);
        }
        out.add(
            new Instance(
                w, i, (b[0] & 255) + "." + (b[1] & 255) + "." + (b[2] & 255) + "." + last));
        last++;
      }
    }
    if (meshed) {
      for (Workload w : spec.workloads()) {
        for (Port p : w.ports()) {
          if (p.targetPort() == 0 && p.number() + TARGET_PORT_OFFSET > 65535) {
            throw new IllegalArgumentException(
                w.namespace() + "/" + w.name() + ": port " + p.name() + " needs a targetPort");
          }
        }
      }
    }
    return new MeshPlan(spec, out, meshed);
  }

  /**
   * The port the app of {@code port} listens on: the service port, or behind a sidecar its target.
   */
  public int appPort(Port port) {
    if (!meshed) {
      return port.number();
    }
    return port.targetPort() != 0 ? port.targetPort() : port.number() + TARGET_PORT_OFFSET;
  }

  /** The first instance of each service ({@code namespace/app}), for direct, unmeshed calls. */
  public Map<String, Instance> firstInstanceOfEachService() {
    Map<String, Instance> out = new LinkedHashMap<>();
    for (Instance i : instances) {
      out.putIfAbsent(i.workload().namespace() + "/" + i.workload().app(), i);
    }
    return out;
  }

  /**
   * Every address and port this plan will listen on that something else already holds, each named
   * by workload, instance and port; empty when all are free.
   *
   * @param controlPlane the control plane's {@code address:port}s, checked too when it will run
   */
  public List<String> portsInUse(List<InetSocketAddress> controlPlane) {
    List<String> problems = new ArrayList<>();
    for (InetSocketAddress cp : controlPlane) {
      if (inUse(cp.getHostString(), cp.getPort())) {
        problems.add(
            "control plane: port "
                + cp.getHostString()
                + ":"
                + cp.getPort()
                + " is already in use");
      }
    }
    for (Instance i : instances) {
      String who = "workload " + i.workload().namespace() + "/" + i.workload().name();
      for (Port p : i.workload().ports()) {
        List<Integer> taken = meshed ? List.of(p.number(), appPort(p)) : List.of(p.number());
        for (int port : taken) {
          if (inUse(i.address(), port)) {
            problems.add(
                who
                    + " (instance "
                    + i.name()
                    + "): port "
                    + p.name()
                    + " "
                    + i.address()
                    + ":"
                    + port
                    + " is already in use");
          }
        }
      }
      if (meshed) {
        for (int port : SIDECAR_PORTS) {
          if (inUse(i.address(), port)) {
            problems.add(
                who
                    + " (instance "
                    + i.name()
                    + "): sidecar port "
                    + i.address()
                    + ":"
                    + port
                    + " is already in use");
          }
        }
      }
    }
    return problems;
  }

  /** Whether binding {@code address:port} fails because something listens there. */
  static boolean inUse(String address, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true); // a TIME_WAIT leftover does not count; a listener does
      s.bind(new InetSocketAddress(InetAddress.ofLiteral(address), port));
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /** The first HTTP-ish port of a workload (for health checks and direct URLs). */
  static Optional<Port> httpPort(Workload w) {
    return w.ports().stream()
        .filter(p -> "http".equals(MeshFile.protocolOf(p.name())))
        .findFirst()
        .or(() -> w.ports().stream().findFirst());
  }
}
