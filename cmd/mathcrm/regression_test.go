package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRegressionAgainstScikitLearn trains linear and logistic regression
// through the whole cluster and compares them with scikit-learn 1.2.1's
// answers (testdata/golden, made by make_golden.py).
func TestCLIRegressionAgainstScikitLearn(t *testing.T) {
	dir := t.TempDir()
	dev := startDev(t, filepath.Join(dir, "cluster"))
	url := dev.url

	// Diabetes, ordinary least squares: coefficients within 1e-8 relative.
	raw, err := os.ReadFile("../../testdata/golden/diabetes_unscaled.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var b strings.Builder
	b.WriteString("row," + lines[0] + "\n")
	for i, l := range lines[1:] {
		fmt.Fprintf(&b, "%d,%s\n", i, l)
	}
	csv := filepath.Join(dir, "diabetes.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	var imp map[string]any
	runJSON(t, url, &imp, "dataset", "import", "diabetes", csv, "--key", "row", "--shards", "4")
	var res struct {
		Model string `json:"model"`
		State string `json:"state"`
	}
	runJSON(t, url, &res, "train", "linear", "--dataset", "diabetes", "--target", "target", "--wait")
	var lin struct {
		Coefficients []float64 `json:"coefficients"`
		Intercept    float64   `json:"intercept"`
		Features     []string  `json:"features"`
		StdErrors    []float64 `json:"std_errors"`
		Residuals    struct {
			Unit  float64 `json:"unit"`
			Train []int64 `json:"train"`
		} `json:"residuals"`
	}
	runJSON(t, url, &lin, "model", "export", res.Model, "--format", "json")
	var gl struct {
		Features []string `json:"features"`
		Cases    []struct {
			Name         string    `json:"name"`
			Coefficients []float64 `json:"coefficients"`
			Intercept    float64   `json:"intercept"`
		} `json:"cases"`
	}
	readGolden(t, "linear_diabetes.json", &gl)
	if strings.Join(lin.Features, ",") != strings.Join(gl.Features, ",") {
		t.Fatalf("features %v, golden %v", lin.Features, gl.Features)
	}
	for i, want := range gl.Cases[0].Coefficients {
		if rel(lin.Coefficients[i], want) > 1e-8 {
			t.Fatalf("coefficient %s = %v, scikit-learn %v", lin.Features[i], lin.Coefficients[i], want)
		}
	}
	if rel(lin.Intercept, gl.Cases[0].Intercept) > 1e-8 || len(lin.StdErrors) != len(gl.Features) {
		t.Fatalf("intercept %v vs %v, %d standard errors", lin.Intercept, gl.Cases[0].Intercept, len(lin.StdErrors))
	}
	n := int64(0)
	for _, c := range lin.Residuals.Train {
		n += c
	}
	if len(lin.Residuals.Train) != 34 || n != int64(len(lines)-1) || !(lin.Residuals.Unit > 0) {
		t.Fatalf("residual histogram %+v of %d rows", lin.Residuals, n)
	}

	// Telco churn, unpenalised: log-loss within 1e-6 and AUC within 1e-4.
	runJSON(t, url, &imp, "dataset", "import", "telco", "../../testdata/telco/Telco-Customer-Churn.csv", "--key", "customerID",
		"--columns", "tenure,MonthlyCharges,SeniorCitizen", "--categorical", "Contract,Churn", "--shards", "8")
	runJSON(t, url, &res, "train", "logistic", "--dataset", "telco", "--target", "Churn=Yes",
		"--features", "tenure,MonthlyCharges,SeniorCitizen", "--penalty", "none", "--wait")
	var lg struct {
		Metrics struct {
			Train struct {
				LogLoss  float64 `json:"log_loss"`
				AUC      float64 `json:"auc"`
				N        int64   `json:"n"`
				CurveAUC float64 `json:"curve_auc"`
				ROC      []struct {
					FPR, TPR float64
				} `json:"roc"`
				Deciles []struct {
					Lift float64 `json:"lift"`
				} `json:"deciles"`
			} `json:"train"`
		} `json:"metrics"`
	}
	runJSON(t, url, &lg, "model", "export", res.Model, "--format", "json")
	var gg struct {
		Cases []struct {
			Name    string `json:"name"`
			Metrics struct {
				LogLoss float64 `json:"log_loss"`
				AUC     float64 `json:"auc"`
			} `json:"train_metrics"`
		} `json:"cases"`
	}
	readGolden(t, "logistic_telco.json", &gg)
	for _, c := range gg.Cases {
		if c.Name != "none_numeric" {
			continue
		}
		if math.Abs(lg.Metrics.Train.LogLoss-c.Metrics.LogLoss) > 1e-6 || math.Abs(lg.Metrics.Train.AUC-c.Metrics.AUC) > 1e-4 {
			t.Fatalf("log-loss %v AUC %v, scikit-learn %v %v", lg.Metrics.Train.LogLoss, lg.Metrics.Train.AUC, c.Metrics.LogLoss, c.Metrics.AUC)
		}
		t.Logf("telco churn: log-loss %.9f (scikit-learn %.9f), AUC %.6f (%.6f), %d rows", lg.Metrics.Train.LogLoss,
			c.Metrics.LogLoss, lg.Metrics.Train.AUC, c.Metrics.AUC, lg.Metrics.Train.N)
	}
	// The export carries the ROC (a point per score bin edge), its area
	// and the deciles; model show the AUC and the gains and lift table.
	tr := lg.Metrics.Train
	if len(tr.ROC) != 101 || len(tr.Deciles) != 10 || math.Abs(tr.CurveAUC-tr.AUC) > 0.005 || tr.Deciles[0].Lift <= 1 {
		t.Fatalf("export: %d ROC points, %d deciles, area %v from bins, AUC %v", len(tr.ROC), len(tr.Deciles), tr.CurveAUC, tr.AUC)
	}
	out, _, code := run(t, url, "model", "show", res.Model)
	if code != 0 || !strings.Contains(out, "Calibration") || !strings.Contains(out, "ODDS RATIO") || !strings.Contains(out, fmt.Sprintf("AUC %.4f", tr.AUC)) ||
		!strings.Contains(out, fmt.Sprintf("Gains and lift by decile (training rows; ROC area %.4f from 100 score bins)", tr.CurveAUC)) {
		t.Fatalf("model show: %s", out)
	}
	dev.stop(t)
}

func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/golden", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func rel(a, b float64) float64 {
	return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300)
}
