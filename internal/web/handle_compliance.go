package web

import (
	"context"
	"fmt"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
)

// heldCustomerData says what PhantomOS keeps about a store's customers:
// nothing that identifies them. Orders are kept as sale lines (order and
// line ids, product, quantity, amounts, country and region codes, channel);
// names, emails, phone numbers and addresses are never read or stored.
const heldCustomerData = "no personal data of customers: sale lines keep order and line ids, products, quantities, amounts, country and region codes and channel; no names, emails, phone numbers or addresses"

// shopifyCompliance acts on Shopify's compliance webhooks for every
// publisher that connected the shop (connected now or not):
//
//   - shop/redact erases the store: its products, sales and credentials,
//     with the rollups of the days it sold on recomputed, and an audit
//     entry saying what went;
//   - customers/redact erases what is kept about the customer, which is
//     nothing personal (heldCustomerData), and records that in the audit
//     log;
//   - customers/data_request records, in the audit log for the merchant,
//     what is held about the customer: nothing personal.
func (s *Server) shopifyCompliance(ctx context.Context, req shopify.ComplianceRequest) error {
	refs, err := s.store.ConnectorsOfAccount(ctx, phantomos.ConnectorShopify, req.Shop)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		entry := store.AuditEntry{Actor: "shopify", Target: req.Shop, Details: map[string]any{"webhook": req.WebhookID}}
		switch req.Topic {
		case shopify.TopicShopRedact:
			erased, err := s.store.EraseConnector(ctx, ref.PublisherID, ref.ConnectorID)
			if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
				continue // erased by a concurrent delivery
			}
			if err != nil {
				return fmt.Errorf("shop/redact %s: %w", req.Shop, err)
			}
			entry.Action = "connector.shop_redact"
			entry.Details["sales_erased"] = erased.Sales
			entry.Details["products_erased"] = erased.Products
			entry.Details["products_passed_to_other_stores"] = erased.Reassigned
			entry.Details["credentials_erased"] = true
		case shopify.TopicCustomersRedact:
			entry.Action = "connector.customer_redact"
			entry.Details["customer_id"] = req.CustomerID
			entry.Details["orders"] = len(req.Orders)
			entry.Details["erased"] = "nothing: " + heldCustomerData
		case shopify.TopicCustomersDataRequest:
			entry.Action = "connector.customer_data_request"
			entry.Details["customer_id"] = req.CustomerID
			entry.Details["orders"] = len(req.Orders)
			entry.Details["data_request_id"] = req.DataRequestID
			entry.Details["held"] = heldCustomerData
		default:
			return fmt.Errorf("compliance topic %q", req.Topic)
		}
		if err := s.store.Audit(ctx, ref.PublisherID, entry); err != nil {
			return err
		}
	}
	return nil
}
