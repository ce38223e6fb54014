package dev.bowline.controlplane.registry;

import java.util.function.Consumer;

/**
 * A source of services and endpoints: the local registry today; ServiceEntry/WorkloadEntry and
 * Kubernetes registries plug in behind the same interface.
 */
public interface ServiceRegistry {
  /** The current contents, immutable. */
  RegistrySnapshot snapshot();

  /**
   * Calls {@code listener} after every change, in order, on the thread that made the change; it
   * must return quickly (enqueue, don't compute).
   */
  void addListener(Consumer<RegistryChange> listener);
}
