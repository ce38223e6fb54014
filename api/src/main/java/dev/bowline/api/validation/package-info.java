/**
 * Istio's validation rules as behaviour: {@link dev.bowline.api.validation.Validator} checks one
 * resource and returns every error and warning, each naming the resource and the field.
 */
@NullMarked
package dev.bowline.api.validation;

import org.jspecify.annotations.NullMarked;
