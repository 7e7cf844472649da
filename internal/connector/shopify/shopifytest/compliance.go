package shopifytest

import "encoding/json"

// ShopID is the fake shop's numeric id, as compliance payloads carry it.
const ShopID = 954889

// ShopRedactPayload is the body of shop/redact, which Shopify sends 48
// hours after the store uninstalled the app: the shop's id and domain.
func (s *Server) ShopRedactPayload() []byte {
	b, _ := json.Marshal(map[string]any{"shop_id": ShopID, "shop_domain": s.opts.Shop})
	return b
}

// CustomersRedactPayload is the body of customers/redact: the customer
// (id, email, phone) and the ids of the orders to redact.
func (s *Server) CustomersRedactPayload(customerID int64, orders []int64) []byte {
	if orders == nil {
		orders = []int64{}
	}
	b, _ := json.Marshal(map[string]any{"shop_id": ShopID, "shop_domain": s.opts.Shop,
		"customer":         map[string]any{"id": customerID, "email": "john@example.com", "phone": "555-625-1199"},
		"orders_to_redact": orders})
	return b
}

// CustomersDataRequestPayload is the body of customers/data_request: the
// customer, the orders requested and the data request's id.
func (s *Server) CustomersDataRequestPayload(customerID int64, orders []int64, requestID int64) []byte {
	if orders == nil {
		orders = []int64{}
	}
	b, _ := json.Marshal(map[string]any{"shop_id": ShopID, "shop_domain": s.opts.Shop,
		"orders_requested": orders,
		"customer":         map[string]any{"id": customerID, "email": "john@example.com", "phone": "555-625-1199"},
		"data_request":     map[string]any{"id": requestID}})
	return b
}
