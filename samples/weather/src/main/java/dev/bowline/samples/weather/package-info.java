/**
 * The Weather Forecast sample app of the book's practice chapters: frontend, advertisement,
 * forecast (v1 weather only, v2 weather plus recommendations) and recommendation, as one jar whose
 * role is chosen by flag. The app knows nothing about the mesh: it only propagates tracing and
 * {@code x-} headers, honours {@code HTTP_PROXY} and offers switches (delay, error rate) for the
 * fault chapters.
 */
@NullMarked
package dev.bowline.samples.weather;

import org.jspecify.annotations.NullMarked;
