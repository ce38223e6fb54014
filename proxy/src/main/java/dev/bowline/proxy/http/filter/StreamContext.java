package dev.bowline.proxy.http.filter;

import io.netty.util.concurrent.EventExecutor;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * What a filter may ask of the stream it runs on. Every method must be called on the stream's event
 * loop ({@link #executor()}).
 */
public interface StreamContext {
  /** The stream's event loop, for timers; never block it. */
  EventExecutor executor();

  /** The loop's random generator (percentages, jitter). */
  RandomGenerator random();

  /** Whether the request is gRPC ({@code content-type: application/grpc*}). */
  boolean grpc();

  /** Whether the stream has ended (answered or reset); a resumed filter must check it. */
  boolean done();

  /**
   * Answers locally with {@code status} and {@code body} (a gRPC request gets the mapped {@code
   * grpc-status}) and records {@code flag} (e.g. FI, RL; null: none). The response passes the
   * response side of the filters that already saw the request.
   */
  void sendLocalReply(int status, String body, @Nullable ResponseFlag flag);

  /**
   * Answers a gRPC request locally with {@code grpc-status: grpcStatus}, recording {@code flag}.
   */
  void sendGrpcReply(int grpcStatus, String message, @Nullable ResponseFlag flag);

  /** Records {@code flag} (e.g. DI) on the stream, in its {@link ResponseFlags}. */
  void addResponseFlag(ResponseFlag flag);

  /** Resumes the filter chain after the next filter; for a filter that returned STOP_ITERATION. */
  void continueDecoding();
}
