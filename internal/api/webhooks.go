package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/rapportcrm/rapport/internal/auth"
	"github.com/rapportcrm/rapport/internal/store"
	"github.com/rapportcrm/rapport/internal/webhook"
)

type webhookInput struct {
	Body struct {
		URL        string   `json:"url" minLength:"1" maxLength:"2000" doc:"Where deliveries are POSTed (http or https)"`
		Events     []string `json:"events,omitempty" maxItems:"10" doc:"segment.entered and/or segment.left; default both"`
		SegmentIDs []string `json:"segment_ids,omitempty" maxItems:"1000" doc:"Only these segments; default every segment"`
	}
}

type createdWebhook struct {
	Body struct {
		store.Webhook
		Secret string `json:"secret" doc:"Signs every delivery (Rapport-Signature header); shown only now"`
	}
}

type webhooksOutput struct {
	Body struct {
		Items []store.Webhook `json:"items"`
	}
}

type webhookOutput struct {
	Body struct {
		store.Webhook
		Deliveries []store.WebhookDelivery `json:"deliveries" doc:"The latest delivery attempts, newest first"`
	}
}

type deliveryOutput struct {
	Body store.WebhookDelivery
}

// webhookDeliveriesShown is how many attempts GET /webhooks/{id} lists.
const webhookDeliveriesShown = 20

// registerWebhooks mounts the webhook subscriptions: segment entries and
// exits POSTed, signed, to a URL (delivered by internal/webhook's worker).
func (s *Server) registerWebhooks(api huma.API) {
	create := op("create-webhook", http.MethodPost, "/api/v1/webhooks", "Subscribe a URL to segment entries and exits (the signing secret is shown once)", auth.ManageSettings, "webhooks")
	create.DefaultStatus = http.StatusCreated
	huma.Register(api, create, func(ctx context.Context, in *webhookInput) (*createdWebhook, error) {
		w, err := webhook.Create(ctx, s.Store, principal(ctx).Actor(), webhook.Spec{URL: in.Body.URL, Events: in.Body.Events, SegmentIDs: in.Body.SegmentIDs})
		if err != nil {
			return nil, s.problem(ctx, err)
		}
		out := &createdWebhook{}
		out.Body.Webhook, out.Body.Secret = w, w.Secret
		return out, nil
	})

	huma.Register(api, op("list-webhooks", http.MethodGet, "/api/v1/webhooks", "List webhook subscriptions", auth.ManageSettings, "webhooks"),
		func(ctx context.Context, _ *struct{}) (*webhooksOutput, error) {
			ws, err := s.Store.Webhooks(ctx)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &webhooksOutput{}
			out.Body.Items = ws
			return out, nil
		})

	huma.Register(api, op("get-webhook", http.MethodGet, "/api/v1/webhooks/{id}", "A webhook subscription with its latest delivery attempts", auth.ManageSettings, "webhooks"),
		func(ctx context.Context, in *idPath) (*webhookOutput, error) {
			w, err := s.Store.Webhook(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			ds, err := s.Store.WebhookDeliveries(ctx, in.ID, webhookDeliveriesShown)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			out := &webhookOutput{}
			out.Body.Webhook, out.Body.Deliveries = w, ds
			return out, nil
		})

	del := op("delete-webhook", http.MethodDelete, "/api/v1/webhooks/{id}", "Delete a webhook subscription", auth.ManageSettings, "webhooks")
	del.DefaultStatus = http.StatusNoContent
	huma.Register(api, del, func(ctx context.Context, in *idPath) (*struct{}, error) {
		if err := s.Store.DeleteWebhook(ctx, principal(ctx).Actor(), in.ID); err != nil {
			return nil, s.problem(ctx, err)
		}
		return nil, nil
	})

	huma.Register(api, op("test-webhook", http.MethodPost, "/api/v1/webhooks/{id}/test", "Send a test delivery (no events) and report how it went", auth.ManageSettings, "webhooks"),
		func(ctx context.Context, in *idPath) (*deliveryOutput, error) {
			d, err := (&webhook.Worker{Store: s.Store, Log: s.Log}).Ping(ctx, in.ID)
			if err != nil {
				return nil, s.problem(ctx, err)
			}
			return &deliveryOutput{Body: d}, nil
		})
}
