package dev.bowline.proxy.http.filter;

/** Whether the filter chain goes on after a filter. */
public enum FilterStatus {
  CONTINUE,
  STOP_ITERATION
}
