package dev.bowline.proxy.http;

import dev.bowline.proxy.http.filter.HttpFilter;
import org.jspecify.annotations.Nullable;

/**
 * The filters of a downstream connection's first stream, which its later streams share where every
 * factory hands out the same instances again (shared filters, as the router's). One per downstream
 * connection: an HTTP/1 connection's handler has its own, the handlers of an HTTP/2 connection's
 * streams (one handler per stream, all on the connection's event loop) hold their connection's.
 */
final class FirstFilters {
  HttpFilter @Nullable [] filters;
}
