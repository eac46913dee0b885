// Package quota reconciles a Tenant's ResourceQuota and LimitRange in every
// tenant namespace, from render.Quota. Tenants can read but never edit them.
package quota
