package kmeans

import "math"

// Init methods.
const (
	InitKMeansParallel = "kmeans||"
	InitRandom         = "random"
	InitGiven          = "given"
)

// Defaults applied by New to zero fields.
const (
	DefaultMaxIter = 20
	DefaultTol     = 1e-4
	DefaultRounds  = 2 // Spark's initSteps

	// localIters bounds the weighted Lloyd refinement of the k-means||
	// candidates on the leader, as Spark's LocalKMeans does.
	localIters = 30
	// maxExtraRounds bounds the extra oversampling rounds run when the
	// regular rounds found fewer than K distinct candidates.
	maxExtraRounds = 40
)

// Config describes a k-means job. All coordinates are in training space: the
// caller has already standardised the columns if that was wanted.
type Config struct {
	// K is the number of clusters, at least 1.
	K int `json:"k"`
	// Init is "kmeans||" (the default when empty), "random" or "given".
	Init string `json:"init"`
	// Given holds K*D row-major starting centroids when Init is "given".
	Given []float64 `json:"given,omitempty"`
	// MaxIter bounds the Lloyd iterations; 0 means DefaultMaxIter.
	MaxIter int `json:"max_iter"`
	// Tol stops Lloyd once the largest Euclidean centroid shift of an
	// iteration is at most Tol. 0 disables the test, so exactly MaxIter
	// iterations run; DefaultConfig sets DefaultTol.
	Tol float64 `json:"tol"`
	// Seed selects the random streams.
	Seed uint64 `json:"seed"`
	// Rounds is the number of k-means|| oversampling rounds; 0 means
	// DefaultRounds.
	Rounds int `json:"rounds"`
	// Oversample is ℓ, the expected number of rows sampled per k-means||
	// round; 0 means 2*K.
	Oversample float64 `json:"oversample"`
	// NProfile is the number of profile columns every shard passes to the
	// "final" task.
	NProfile int `json:"nprofile"`
}

// DefaultConfig returns the configuration used when only K is known.
func DefaultConfig(k int) Config {
	return Config{
		K:          k,
		Init:       InitKMeansParallel,
		MaxIter:    DefaultMaxIter,
		Tol:        DefaultTol,
		Rounds:     DefaultRounds,
		Oversample: 2 * float64(k),
	}
}

// Validate reports the first thing wrong with c. It cannot check the length
// of Given against D; New does.
func (c Config) Validate() error {
	switch {
	case c.K < 1:
		return errorf(ErrConfig, "K must be at least 1, got %d", c.K)
	case c.Init != "" && c.Init != InitKMeansParallel && c.Init != InitRandom && c.Init != InitGiven:
		return errorf(ErrConfig, "Init must be %q, %q or %q, got %q", InitKMeansParallel, InitRandom, InitGiven, c.Init)
	case c.Init == InitGiven && (len(c.Given) == 0 || len(c.Given)%c.K != 0):
		return errorf(ErrConfig, "Given must hold K*D values for Init %q, got %d values for K=%d", InitGiven, len(c.Given), c.K)
	case c.Init != InitGiven && len(c.Given) != 0:
		return errorf(ErrConfig, "Given is set but Init is %q, not %q", c.Init, InitGiven)
	case c.MaxIter < 0:
		return errorf(ErrConfig, "MaxIter must not be negative, got %d", c.MaxIter)
	case c.Tol < 0 || math.IsNaN(c.Tol) || math.IsInf(c.Tol, 0):
		return errorf(ErrConfig, "Tol must be finite and not negative, got %v", c.Tol)
	case c.Rounds < 0:
		return errorf(ErrConfig, "Rounds must not be negative, got %d", c.Rounds)
	case c.Oversample < 0 || math.IsNaN(c.Oversample) || math.IsInf(c.Oversample, 0):
		return errorf(ErrConfig, "Oversample must be finite and not negative, got %v", c.Oversample)
	case c.NProfile < 0:
		return errorf(ErrConfig, "NProfile must not be negative, got %d", c.NProfile)
	}
	for i, v := range c.Given {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(ErrConfig, "Given[%d] is %v", i, v)
		}
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Init == "" {
		c.Init = InitKMeansParallel
	}
	if c.MaxIter == 0 {
		c.MaxIter = DefaultMaxIter
	}
	if c.Rounds == 0 {
		c.Rounds = DefaultRounds
	}
	if c.Oversample == 0 {
		c.Oversample = 2 * float64(c.K)
	}
	return c
}
