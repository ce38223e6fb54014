package dev.bowline.proxy.config;

import java.util.List;

/**
 * Envoy's {@code request_headers_to_add/remove} or {@code response_headers_to_add/remove} at one
 * level (route configuration, virtual host or route). Removal happens before addition.
 */
public record HeaderMutation(List<Add> add, List<String> remove) {
  public HeaderMutation {
    add = List.copyOf(add);
    remove = List.copyOf(remove);
  }

  public static final HeaderMutation NONE = new HeaderMutation(List.of(), List.of());

  public boolean isEmpty() {
    return add.isEmpty() && remove.isEmpty();
  }

  /** One header to add, with Envoy's {@code append_action}. */
  public record Add(String name, String value, Action action) {}

  /** Envoy's {@code HeaderValueOption.HeaderAppendAction}. */
  public enum Action {
    APPEND_IF_EXISTS_OR_ADD,
    ADD_IF_ABSENT,
    OVERWRITE_IF_EXISTS_OR_ADD,
    OVERWRITE_IF_EXISTS
  }

  /**
   * Applies this mutation through {@code ops} (so the config package needs no HTTP library):
   * removals first, then additions.
   */
  public void applyTo(Headers ops) {
    for (String r : remove) {
      ops.remove(r);
    }
    for (Add a : add) {
      boolean present = ops.contains(a.name());
      switch (a.action()) {
        case APPEND_IF_EXISTS_OR_ADD -> ops.add(a.name(), a.value());
        case ADD_IF_ABSENT -> {
          if (!present) {
            ops.add(a.name(), a.value());
          }
        }
        case OVERWRITE_IF_EXISTS_OR_ADD -> ops.set(a.name(), a.value());
        case OVERWRITE_IF_EXISTS -> {
          if (present) {
            ops.set(a.name(), a.value());
          }
        }
      }
    }
  }

  /** The header operations a mutation needs. */
  public interface Headers {
    boolean contains(String name);

    void add(String name, String value);

    void set(String name, String value);

    void remove(String name);
  }

  /** Netty's HTTP/1 headers (a request's, a response's, a health check's) as {@link Headers}. */
  public record Http1Headers(io.netty.handler.codec.http.HttpHeaders h) implements Headers {
    @Override
    public boolean contains(String name) {
      return h.contains(name);
    }

    @Override
    public void add(String name, String value) {
      h.add(name, value);
    }

    @Override
    public void set(String name, String value) {
      h.set(name, value);
    }

    @Override
    public void remove(String name) {
      h.remove(name);
    }
  }

  /** Netty's HTTP/2 headers (a health check's request) as {@link Headers}. */
  public record Http2Headers(io.netty.handler.codec.http2.Http2Headers h) implements Headers {
    @Override
    public boolean contains(String name) {
      return h.contains(name);
    }

    @Override
    public void add(String name, String value) {
      h.add(name, value);
    }

    @Override
    public void set(String name, String value) {
      h.set(name, value);
    }

    @Override
    public void remove(String name) {
      h.remove(name);
    }
  }
}
