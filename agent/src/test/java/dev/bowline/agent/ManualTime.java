package dev.bowline.agent;

import dev.bowline.agentstatus.Scheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A clock and a scheduler the test moves by hand; due tasks run on the test's thread. */
final class ManualTime extends Clock implements Scheduler {
  private volatile Instant now;
  private final List<Task> tasks = new ArrayList<>();

  private record Task(Instant due, long seq, Runnable run) {}

  private long seq;

  ManualTime(Instant start) {
    this.now = start;
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, Duration delay) {
    Task t = new Task(now.plus(delay.isNegative() ? Duration.ZERO : delay), seq++, task);
    tasks.add(t);
    return () -> {
      synchronized (this) {
        tasks.remove(t);
      }
    };
  }

  /** Runs every task due now, including ones they schedule for now. */
  void runDue() {
    while (true) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> !t.due().isAfter(now))
                .min(Comparator.comparing(Task::due).thenComparingLong(Task::seq))
                .orElse(null);
        if (next == null) {
          return;
        }
        tasks.remove(next);
      }
      next.run().run();
    }
  }

  /** Moves time forward, running tasks as their time comes. */
  void advance(Duration d) {
    Instant end = now.plus(d);
    while (true) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> !t.due().isAfter(end))
                .min(Comparator.comparing(Task::due).thenComparingLong(Task::seq))
                .orElse(null);
        if (next == null) {
          now = end;
          return;
        }
        tasks.remove(next);
        if (next.due().isAfter(now)) {
          now = next.due();
        }
      }
      next.run().run();
    }
  }

  /** When the earliest pending task is due. */
  synchronized Instant nextDue() {
    return tasks.stream().map(Task::due).min(Comparator.naturalOrder()).orElseThrow();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
