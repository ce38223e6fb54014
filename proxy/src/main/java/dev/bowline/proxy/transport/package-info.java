/** Choice of Netty I/O transport (io_uring, epoll, NIO) for the proxy's event loops. */
@NullMarked
package dev.bowline.proxy.transport;

import org.jspecify.annotations.NullMarked;
