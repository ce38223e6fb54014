/**
 * Istio's API kinds as immutable records, one top-level record per spec ({@link
 * dev.bowline.api.model.VirtualService}, ...), with field names exactly as in istio.io/api. Lists
 * and maps are never null (empty when absent); optional scalars are nullable.
 */
@NullMarked
package dev.bowline.api.model;

import org.jspecify.annotations.NullMarked;
