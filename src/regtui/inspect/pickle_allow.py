"""Which globals a pickle may import: exact (module, qualname) pairs, never prefixes.

A pair is allowed only where that module *defines* the name and calling it with
pickled arguments builds data (containers, arrays, tensors, estimators). A name
re-exported by an allowed module (`numpy.core.multiarray.os`, `collections.os`)
or a dotted path through one (`builtins.getattr`, `numpy.dtype.__class__`) is a
different pair, so it is not allowed. The scikit-learn and SciPy sparse classes
are generated from the installed packages (tests/unit/inspect/pickle_allow_gen.py):
only classes whose `__module__` is the module that holds them, plus their Cython
unpickle helpers.
"""

from __future__ import annotations

import _compat_pickle

from regtui.inspect.bounds import clip

_BY_MODULE: dict[str, str] = {
    "builtins": "set frozenset dict list tuple bytearray bytes complex slice range object int "
    "float str bool",
    "copyreg": "_reconstructor __newobj__ __newobj_ex__",
    "_codecs": "encode",  # protocols 0-2 write bytes as _codecs.encode(text, 'latin1')
    "collections": "OrderedDict defaultdict deque Counter",
    "datetime": "datetime date time timedelta timezone",
    "decimal": "Decimal",
    "fractions": "Fraction",
    "pathlib": "Path PosixPath WindowsPath PurePath PurePosixPath PureWindowsPath",
    "argparse": "Namespace",
    "re": "_compile",
    "numpy": "dtype ndarray bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
    "float16 float32 float64 longdouble complex64 complex128 clongdouble str_ bytes_ object_ "
    "intc uintc intp uintp half single double longlong ulonglong csingle cdouble datetime64 "
    "timedelta64 void",
    "numpy.core.multiarray": "_reconstruct scalar",
    "numpy._core.multiarray": "_reconstruct scalar",
    "numpy.core.numeric": "_frombuffer",
    "numpy._core.numeric": "_frombuffer",
    "numpy.ma.core": "_mareconstruct MaskedArray",
    "numpy.random._pickle": "__randomstate_ctor __bit_generator_ctor __generator_ctor",
    "numpy.random.mtrand": "RandomState",
    "numpy.random._generator": "Generator",
    "numpy.random._mt19937": "MT19937",
    "numpy.random._pcg64": "PCG64 PCG64DXSM",
    "numpy.random._philox": "Philox",
    "numpy.random._sfc64": "SFC64",
    "numpy.random.bit_generator": "SeedSequence",
    "joblib.numpy_pickle": "NumpyArrayWrapper",  # not NDArrayWrapper: it opens a side file
    "torch": "Size device "
    # dtypes, pickled by name
    "float32 float float64 double float16 half bfloat16 complex32 chalf complex64 cfloat "
    "complex128 cdouble uint8 uint16 uint32 uint64 int8 int16 short int32 int int64 long bool "
    "qint8 quint8 qint32 quint4x2 quint2x4 float8_e4m3fn float8_e5m2 float8_e4m3fnuz "
    "float8_e5m2fnuz float8_e8m0fnu "
    # storage types (the persistent ids of torch.save name them)
    "ByteStorage CharStorage ShortStorage IntStorage LongStorage HalfStorage FloatStorage "
    "DoubleStorage BoolStorage BFloat16Storage ComplexFloatStorage ComplexDoubleStorage "
    "QUInt8Storage QInt8Storage QInt32Storage QUInt4x2Storage QUInt2x4Storage UntypedStorage "
    # layouts and memory formats
    "strided sparse_coo sparse_csr sparse_csc sparse_bsr sparse_bsc _mkldnn jagged "
    "contiguous_format channels_last channels_last_3d preserve_format",
    "torch._utils": "_rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter "
    "_rebuild_parameter_with_state _rebuild_qtensor _rebuild_sparse_tensor "
    "_rebuild_nested_tensor _rebuild_device_tensor_from_numpy "
    "_rebuild_device_tensor_from_cpu_tensor _rebuild_meta_tensor_no_storage "
    "_rebuild_wrapper_subclass",
    "torch._tensor": "_rebuild_from_type _rebuild_from_type_v2",
    "torch.nn.parameter": "Parameter",
    "torch.serialization": "_get_layout",
    "xgboost.core": "Booster",
    "xgboost.sklearn": "XGBModel XGBClassifier XGBRegressor XGBRanker XGBRFClassifier "
    "XGBRFRegressor",
    "lightgbm.basic": "Booster",
    "lightgbm.sklearn": "LGBMModel LGBMClassifier LGBMRegressor LGBMRanker",
    "catboost.core": "CatBoost CatBoostClassifier CatBoostRegressor CatBoostRanker",
    "pandas.core.frame": "DataFrame",
    "pandas.core.series": "Series",
    "pandas.core.internals.managers": "BlockManager SingleBlockManager",
    "pandas.core.internals.blocks": "new_block",
    "pandas._libs.internals": "_unpickle_block",
    "pandas.core.indexes.base": "_new_Index Index",
    "pandas.core.indexes.range": "RangeIndex",
    "pandas.core.indexes.multi": "MultiIndex",
    "pandas.core.indexes.datetimes": "_new_DatetimeIndex DatetimeIndex",
    "pandas.core.arrays.categorical": "Categorical",
    "pandas.core.arrays.datetimes": "DatetimeArray",
    "pandas.core.dtypes.dtypes": "CategoricalDtype DatetimeTZDtype",
    "pandas._libs.arrays": "__pyx_unpickle_NDArrayBacked",
    "pandas._libs.tslibs.timestamps": "_unpickle_timestamp",
    "pandas._libs.tslibs.timedeltas": "_timedelta_unpickle",
    # generated: scikit-learn 1.9.1 and scipy 1.17.1 (scipy.sparse)
    "scipy.sparse._base": "_spbase sparray",
    "scipy.sparse._bsr": "_bsr_base bsr_array bsr_matrix",
    "scipy.sparse._compressed": "_cs_matrix",
    "scipy.sparse._coo": "_coo_base coo_array coo_matrix",
    "scipy.sparse._csc": "_csc_base csc_array csc_matrix",
    "scipy.sparse._csr": "_csr_base csr_array csr_matrix",
    "scipy.sparse._data": "_data_matrix _minmax_mixin",
    "scipy.sparse._dia": "_dia_base dia_array dia_matrix",
    "scipy.sparse._dok": "_dok_base dok_array dok_matrix",
    "scipy.sparse._index": "IndexMixin",
    "scipy.sparse._lil": "_lil_base lil_array lil_matrix",
    "scipy.sparse._matrix": "spmatrix",
    "scipy.sparse.csgraph._flow": "MaximumFlowResult",
    "scipy.sparse.csgraph._shortest_path": "_YenCandidatePaths",
    "scipy.sparse.linalg._eigen.arpack.arpack": "IterInv IterOpInv LuInv SpLuInv _ArpackParams _SymmetricArpackParams _UnsymmetricArpackParams",
    "scipy.sparse.linalg._expm_multiply": "LazyOperatorNormInfo",
    "scipy.sparse.linalg._interface": "IdentityOperator LinearOperator MatrixLinearOperator _AdjointLinearOperator _AdjointMatrixOperator _CustomLinearOperator _PowerLinearOperator _ProductLinearOperator _ScaledLinearOperator _SumLinearOperator _TransposedLinearOperator",
    "scipy.sparse.linalg._matfuncs": "MatrixPowerOperator ProductOperator _ExpmPadeHelper",
    "scipy.sparse.linalg._special_sparse_arrays": "LaplacianNd MikotaK MikotaM MikotaPair Sakurai",
    "scipy.sparse.linalg._svdp": "_AProd",
    "sklearn._cyutility": "__pyx_unpickle_Enum",
    "sklearn._loss._loss": "CyAbsoluteError CyExponentialLoss CyHalfBinomialLoss CyHalfGammaLoss CyHalfMultinomialLoss CyHalfPoissonLoss CyHalfSquaredError CyHalfTweedieLoss CyHalfTweedieLossIdentity CyHuberLoss CyLossFunction CyPinballLoss __pyx_unpickle_CyHalfMultinomialLoss",
    "sklearn._loss.link": "BaseLink HalfLogitLink IdentityLink Interval LogLink LogitLink MultinomialLogit",
    "sklearn._loss.loss": "AbsoluteError ArrayAPILossMixin BaseLoss ExponentialLoss HalfBinomialLoss HalfBinomialLossArrayAPI HalfGammaLoss HalfMultinomialLoss HalfMultinomialLossArrayAPI HalfPoissonLoss HalfPoissonLossArrayAPI HalfSquaredError HalfTweedieLoss HalfTweedieLossIdentity HuberLoss PinballLoss",
    "sklearn.base": "BaseEstimator BiclusterMixin ClassNamePrefixFeaturesOutMixin ClassifierMixin ClusterMixin DensityMixin MetaEstimatorMixin MultiOutputMixin OneToOneFeatureMixin OutlierMixin RegressorMixin TransformerMixin _UnstableArchMixin",
    "sklearn.calibration": "CalibratedClassifierCV CalibrationDisplay _CalibratedClassifier _SigmoidCalibration _TemperatureScaling",
    "sklearn.callback._base": "AutoPropagatedCallback FitCallback _BaseCallback",
    "sklearn.callback._callback_context": "CallbackContext",
    "sklearn.callback._callback_support": "CallbackSupportMixin",
    "sklearn.callback._progressbar": "ProgressBar RichProgressMonitor RichTask _Progress _StyledColumnMixin _StyledPercentageColumn _StyledTimeRemainingColumn",
    "sklearn.callback._scoring_monitor": "ScoringMonitor ScoringMonitorLog",
    "sklearn.callback._transport": "ListenerHandle",
    "sklearn.cluster._affinity_propagation": "AffinityPropagation",
    "sklearn.cluster._agglomerative": "AgglomerativeClustering FeatureAgglomeration",
    "sklearn.cluster._bicluster": "BaseSpectral SpectralBiclustering SpectralCoclustering",
    "sklearn.cluster._birch": "Birch _CFNode _CFSubcluster",
    "sklearn.cluster._bisect_k_means": "BisectingKMeans _BisectingTree",
    "sklearn.cluster._dbscan": "DBSCAN",
    "sklearn.cluster._feature_agglomeration": "AgglomerationTransform",
    "sklearn.cluster._hdbscan._tree": "TreeUnionFind __pyx_unpickle_TreeUnionFind",
    "sklearn.cluster._hdbscan.hdbscan": "HDBSCAN",
    "sklearn.cluster._hierarchical_fast": "UnionFind WeightedEdge __pyx_unpickle_UnionFind __pyx_unpickle_WeightedEdge",
    "sklearn.cluster._kmeans": "KMeans MiniBatchKMeans _BaseKMeans",
    "sklearn.cluster._mean_shift": "MeanShift",
    "sklearn.cluster._optics": "OPTICS",
    "sklearn.cluster._spectral": "SpectralClustering",
    "sklearn.compose._column_transformer": "ColumnTransformer make_column_selector",
    "sklearn.compose._target": "TransformedTargetRegressor",
    "sklearn.covariance._elliptic_envelope": "EllipticEnvelope",
    "sklearn.covariance._empirical_covariance": "EmpiricalCovariance",
    "sklearn.covariance._graph_lasso": "BaseGraphicalLasso GraphicalLasso GraphicalLassoCV",
    "sklearn.covariance._robust_covariance": "MinCovDet",
    "sklearn.covariance._shrunk_covariance": "LedoitWolf OAS ShrunkCovariance",
    "sklearn.cross_decomposition._pls": "CCA PLSCanonical PLSRegression PLSSVD _PLS",
    "sklearn.decomposition._base": "_BasePCA",
    "sklearn.decomposition._dict_learning": "DictionaryLearning MiniBatchDictionaryLearning SparseCoder _BaseSparseCoding",
    "sklearn.decomposition._factor_analysis": "FactorAnalysis",
    "sklearn.decomposition._fastica": "FastICA",
    "sklearn.decomposition._incremental_pca": "IncrementalPCA",
    "sklearn.decomposition._kernel_pca": "KernelPCA",
    "sklearn.decomposition._lda": "LatentDirichletAllocation",
    "sklearn.decomposition._nmf": "MiniBatchNMF NMF _BaseNMF",
    "sklearn.decomposition._pca": "PCA",
    "sklearn.decomposition._sparse_pca": "MiniBatchSparsePCA SparsePCA _BaseSparsePCA",
    "sklearn.decomposition._truncated_svd": "TruncatedSVD",
    "sklearn.discriminant_analysis": "DiscriminantAnalysisPredictionMixin LinearDiscriminantAnalysis QuadraticDiscriminantAnalysis",
    "sklearn.dummy": "DummyClassifier DummyRegressor",
    "sklearn.ensemble._bagging": "BaggingClassifier BaggingRegressor BaseBagging",
    "sklearn.ensemble._base": "BaseEnsemble _BaseHeterogeneousEnsemble",
    "sklearn.ensemble._forest": "BaseForest ExtraTreesClassifier ExtraTreesRegressor ForestClassifier ForestRegressor RandomForestClassifier RandomForestRegressor RandomTreesEmbedding",
    "sklearn.ensemble._gb": "BaseGradientBoosting GradientBoostingClassifier GradientBoostingRegressor VerboseReporter",
    "sklearn.ensemble._hist_gradient_boosting.binning": "_BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.common": "MonotonicConstraint",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting": "BaseHistGradientBoosting HistGradientBoostingClassifier HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.grower": "TreeGrower TreeNode",
    "sklearn.ensemble._hist_gradient_boosting.histogram": "HistogramBuilder __pyx_unpickle_HistogramBuilder",
    "sklearn.ensemble._hist_gradient_boosting.predictor": "TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.splitting": "SplitInfo Splitter __pyx_unpickle_Splitter",
    "sklearn.ensemble._iforest": "IsolationForest",
    "sklearn.ensemble._stacking": "StackingClassifier StackingRegressor _BaseStacking",
    "sklearn.ensemble._voting": "VotingClassifier VotingRegressor _BaseVoting",
    "sklearn.ensemble._weight_boosting": "AdaBoostClassifier AdaBoostRegressor BaseWeightBoosting",
    "sklearn.feature_extraction._dict_vectorizer": "DictVectorizer",
    "sklearn.feature_extraction._hash": "FeatureHasher",
    "sklearn.feature_extraction.image": "PatchExtractor",
    "sklearn.feature_extraction.text": "CountVectorizer HashingVectorizer TfidfTransformer TfidfVectorizer _VectorizerMixin",
    "sklearn.feature_selection._base": "SelectorMixin",
    "sklearn.feature_selection._from_model": "SelectFromModel",
    "sklearn.feature_selection._rfe": "RFE RFECV",
    "sklearn.feature_selection._sequential": "SequentialFeatureSelector",
    "sklearn.feature_selection._univariate_selection": "GenericUnivariateSelect SelectFdr SelectFpr SelectFwe SelectKBest SelectPercentile _BaseFilter",
    "sklearn.feature_selection._variance_threshold": "VarianceThreshold",
    "sklearn.frozen._frozen": "FrozenEstimator",
    "sklearn.gaussian_process._gpc": "GaussianProcessClassifier _BinaryGaussianProcessClassifierLaplace",
    "sklearn.gaussian_process._gpr": "GaussianProcessRegressor",
    "sklearn.gaussian_process.kernels": "CompoundKernel ConstantKernel DotProduct ExpSineSquared Exponentiation GenericKernelMixin Hyperparameter Kernel KernelOperator Matern NormalizedKernelMixin PairwiseKernel Product RBF RationalQuadratic StationaryKernelMixin Sum WhiteKernel",
    "sklearn.impute._base": "MissingIndicator SimpleImputer _BaseImputer",
    "sklearn.impute._iterative": "IterativeImputer _ImputerTriplet",
    "sklearn.impute._knn": "KNNImputer",
    "sklearn.inspection._plot.decision_boundary": "DecisionBoundaryDisplay",
    "sklearn.inspection._plot.partial_dependence": "PartialDependenceDisplay",
    "sklearn.isotonic": "IsotonicRegression",
    "sklearn.kernel_approximation": "AdditiveChi2Sampler Nystroem PolynomialCountSketch RBFSampler SkewedChi2Sampler",
    "sklearn.kernel_ridge": "KernelRidge",
    "sklearn.linear_model._base": "LinearClassifierMixin LinearModel LinearRegression MultiOutputLinearModel SparseCoefMixin",
    "sklearn.linear_model._bayes": "ARDRegression BayesianRidge",
    "sklearn.linear_model._coordinate_descent": "ElasticNet ElasticNetCV Lasso LassoCV LinearModelCV MultiTaskElasticNet MultiTaskElasticNetCV MultiTaskLasso MultiTaskLassoCV",
    "sklearn.linear_model._glm._newton_solver": "NewtonCholeskySolver NewtonSolver",
    "sklearn.linear_model._glm.glm": "GammaRegressor PoissonRegressor TweedieRegressor _GeneralizedLinearRegressor",
    "sklearn.linear_model._huber": "HuberRegressor",
    "sklearn.linear_model._least_angle": "Lars LarsCV LassoLars LassoLarsCV LassoLarsIC",
    "sklearn.linear_model._linear_loss": "LinearModelLoss",
    "sklearn.linear_model._logistic": "LogisticRegression LogisticRegressionCV _LbfgsCallbackBridge",
    "sklearn.linear_model._omp": "OrthogonalMatchingPursuit OrthogonalMatchingPursuitCV",
    "sklearn.linear_model._passive_aggressive": "PassiveAggressiveClassifier PassiveAggressiveRegressor",
    "sklearn.linear_model._perceptron": "Perceptron",
    "sklearn.linear_model._quantile": "QuantileRegressor",
    "sklearn.linear_model._ransac": "RANSACRegressor",
    "sklearn.linear_model._ridge": "Ridge RidgeCV RidgeClassifier RidgeClassifierCV _BaseRidge _BaseRidgeCV _IdentityClassifier _IdentityRegressor _RidgeClassifierMixin _RidgeGCV _XT_CenterStackOp _X_CenterStackOp",
    "sklearn.linear_model._sgd_fast": "Classification EpsilonInsensitive Hinge ModifiedHuber Regression SquaredEpsilonInsensitive SquaredHinge __pyx_unpickle_Classification __pyx_unpickle_Regression",
    "sklearn.linear_model._stochastic_gradient": "BaseSGD BaseSGDClassifier BaseSGDRegressor SGDClassifier SGDOneClassSVM SGDRegressor _ValidationScoreCallback",
    "sklearn.linear_model._theil_sen": "TheilSenRegressor",
    "sklearn.manifold._classical_mds": "ClassicalMDS",
    "sklearn.manifold._isomap": "Isomap",
    "sklearn.manifold._locally_linear": "LocallyLinearEmbedding",
    "sklearn.manifold._mds": "MDS",
    "sklearn.manifold._spectral_embedding": "SpectralEmbedding",
    "sklearn.manifold._t_sne": "TSNE",
    "sklearn.metrics._dist_metrics": "BrayCurtisDistance32 BrayCurtisDistance64 CanberraDistance32 CanberraDistance64 ChebyshevDistance32 ChebyshevDistance64 DiceDistance32 DiceDistance64 DistanceMetric DistanceMetric32 DistanceMetric64 EuclideanDistance32 EuclideanDistance64 HammingDistance32 HammingDistance64 HaversineDistance32 HaversineDistance64 JaccardDistance32 JaccardDistance64 KulsinskiDistance32 KulsinskiDistance64 MahalanobisDistance32 MahalanobisDistance64 ManhattanDistance32 ManhattanDistance64 MatchingDistance32 MatchingDistance64 MinkowskiDistance32 MinkowskiDistance64 PyFuncDistance32 PyFuncDistance64 RogersTanimotoDistance32 RogersTanimotoDistance64 RussellRaoDistance32 RussellRaoDistance64 SEuclideanDistance32 SEuclideanDistance64 SokalMichenerDistance32 SokalMichenerDistance64 SokalSneathDistance32 SokalSneathDistance64 __pyx_unpickle_DistanceMetric newObj",
    "sklearn.metrics._pairwise_distances_reduction._argkmin": "ArgKmin32 ArgKmin64 EuclideanArgKmin32 EuclideanArgKmin64",
    "sklearn.metrics._pairwise_distances_reduction._argkmin_classmode": "ArgKminClassMode32 ArgKminClassMode64",
    "sklearn.metrics._pairwise_distances_reduction._base": "BaseDistancesReduction32 BaseDistancesReduction64 __pyx_unpickle_BaseDistancesReduction32 __pyx_unpickle_BaseDistancesReduction64",
    "sklearn.metrics._pairwise_distances_reduction._datasets_pair": "DatasetsPair32 DatasetsPair64 DenseDenseDatasetsPair32 DenseDenseDatasetsPair64 DenseSparseDatasetsPair32 DenseSparseDatasetsPair64 SparseDenseDatasetsPair32 SparseDenseDatasetsPair64 SparseSparseDatasetsPair32 SparseSparseDatasetsPair64 __pyx_unpickle_DatasetsPair32 __pyx_unpickle_DatasetsPair64 __pyx_unpickle_DenseDenseDatasetsPair32 __pyx_unpickle_DenseDenseDatasetsPair64 __pyx_unpickle_DenseSparseDatasetsPair32 __pyx_unpickle_DenseSparseDatasetsPair64 __pyx_unpickle_SparseDenseDatasetsPair32 __pyx_unpickle_SparseDenseDatasetsPair64 __pyx_unpickle_SparseSparseDatasetsPair32 __pyx_unpickle_SparseSparseDatasetsPair64",
    "sklearn.metrics._pairwise_distances_reduction._dispatcher": "ArgKmin ArgKminClassMode BaseDistancesReductionDispatcher RadiusNeighbors RadiusNeighborsClassMode",
    "sklearn.metrics._pairwise_distances_reduction._middle_term_computer": "DenseDenseMiddleTermComputer32 DenseDenseMiddleTermComputer64 MiddleTermComputer32 MiddleTermComputer64 SparseDenseMiddleTermComputer32 SparseDenseMiddleTermComputer64 SparseSparseMiddleTermComputer32 SparseSparseMiddleTermComputer64 __pyx_unpickle_DenseDenseMiddleTermComputer32 __pyx_unpickle_DenseDenseMiddleTermComputer64 __pyx_unpickle_MiddleTermComputer32 __pyx_unpickle_MiddleTermComputer64 __pyx_unpickle_SparseDenseMiddleTermComputer32 __pyx_unpickle_SparseDenseMiddleTermComputer64 __pyx_unpickle_SparseSparseMiddleTermComputer32 __pyx_unpickle_SparseSparseMiddleTermComputer64",
    "sklearn.metrics._pairwise_distances_reduction._radius_neighbors": "EuclideanRadiusNeighbors32 EuclideanRadiusNeighbors64 RadiusNeighbors32 RadiusNeighbors64",
    "sklearn.metrics._pairwise_distances_reduction._radius_neighbors_classmode": "RadiusNeighborsClassMode32 RadiusNeighborsClassMode64",
    "sklearn.metrics._plot.confusion_matrix": "ConfusionMatrixDisplay",
    "sklearn.metrics._plot.det_curve": "DetCurveDisplay",
    "sklearn.metrics._plot.precision_recall_curve": "PrecisionRecallDisplay",
    "sklearn.metrics._plot.regression": "PredictionErrorDisplay",
    "sklearn.metrics._plot.roc_curve": "RocCurveDisplay",
    "sklearn.metrics._scorer": "_BaseScorer _CurveScorer _MultimetricScorer _PassthroughScorer _Scorer",
    "sklearn.mixture._base": "BaseMixture",
    "sklearn.mixture._bayesian_mixture": "BayesianGaussianMixture",
    "sklearn.mixture._gaussian_mixture": "GaussianMixture",
    "sklearn.model_selection._classification_threshold": "BaseThresholdClassifier FixedThresholdClassifier TunedThresholdClassifierCV",
    "sklearn.model_selection._plot": "LearningCurveDisplay ValidationCurveDisplay _BaseCurveDisplay",
    "sklearn.model_selection._search": "BaseSearchCV GridSearchCV ParameterGrid ParameterSampler RandomizedSearchCV",
    "sklearn.model_selection._search_successive_halving": "BaseSuccessiveHalving HalvingGridSearchCV HalvingRandomSearchCV _SubsampleMetaSplitter",
    "sklearn.model_selection._split": "BaseCrossValidator BaseShuffleSplit GroupKFold GroupShuffleSplit GroupsConsumerMixin KFold LeaveOneGroupOut LeaveOneOut LeavePGroupsOut LeavePOut PredefinedSplit RepeatedKFold RepeatedStratifiedKFold ShuffleSplit StratifiedGroupKFold StratifiedKFold StratifiedShuffleSplit TimeSeriesSplit _BaseKFold _CVIterableWrapper _RepeatedSplits _UnsupportedGroupCVMixin",
    "sklearn.multiclass": "OneVsOneClassifier OneVsRestClassifier OutputCodeClassifier _ConstantPredictor",
    "sklearn.multioutput": "ClassifierChain MultiOutputClassifier MultiOutputRegressor RegressorChain _BaseChain _MultiOutputEstimator",
    "sklearn.naive_bayes": "BernoulliNB CategoricalNB ComplementNB GaussianNB MultinomialNB _BaseDiscreteNB _BaseNB",
    "sklearn.neighbors._ball_tree": "BallTree BallTree32 BallTree64 BinaryTree32 BinaryTree64 NeighborsHeap32 NeighborsHeap64 NodeHeap newObj",
    "sklearn.neighbors._base": "KNeighborsMixin NeighborsBase RadiusNeighborsMixin",
    "sklearn.neighbors._classification": "KNeighborsClassifier RadiusNeighborsClassifier",
    "sklearn.neighbors._graph": "KNeighborsTransformer RadiusNeighborsTransformer",
    "sklearn.neighbors._kd_tree": "BinaryTree32 BinaryTree64 KDTree KDTree32 KDTree64 NeighborsHeap32 NeighborsHeap64 NodeHeap newObj",
    "sklearn.neighbors._kde": "KernelDensity",
    "sklearn.neighbors._lof": "LocalOutlierFactor",
    "sklearn.neighbors._nca": "NeighborhoodComponentsAnalysis",
    "sklearn.neighbors._nearest_centroid": "NearestCentroid",
    "sklearn.neighbors._quad_tree": "_QuadTree",
    "sklearn.neighbors._regression": "KNeighborsRegressor RadiusNeighborsRegressor",
    "sklearn.neighbors._unsupervised": "NearestNeighbors",
    "sklearn.neural_network._multilayer_perceptron": "BaseMultilayerPerceptron MLPClassifier MLPRegressor",
    "sklearn.neural_network._rbm": "BernoulliRBM",
    "sklearn.neural_network._stochastic_optimizers": "AdamOptimizer BaseOptimizer SGDOptimizer",
    "sklearn.pipeline": "FeatureUnion Pipeline",
    "sklearn.preprocessing._data": "Binarizer KernelCenterer MaxAbsScaler MinMaxScaler Normalizer PowerTransformer QuantileTransformer RobustScaler StandardScaler",
    "sklearn.preprocessing._discretization": "KBinsDiscretizer",
    "sklearn.preprocessing._encoders": "OneHotEncoder OrdinalEncoder _BaseEncoder",
    "sklearn.preprocessing._function_transformer": "FunctionTransformer",
    "sklearn.preprocessing._label": "LabelBinarizer LabelEncoder MultiLabelBinarizer",
    "sklearn.preprocessing._polynomial": "PolynomialFeatures SplineTransformer",
    "sklearn.preprocessing._target_encoder": "TargetEncoder",
    "sklearn.random_projection": "BaseRandomProjection GaussianRandomProjection SparseRandomProjection",
    "sklearn.semi_supervised._label_propagation": "BaseLabelPropagation LabelPropagation LabelSpreading",
    "sklearn.semi_supervised._self_training": "SelfTrainingClassifier",
    "sklearn.svm._base": "BaseLibSVM BaseSVC",
    "sklearn.svm._classes": "LinearSVC LinearSVR NuSVC NuSVR OneClassSVM SVC SVR",
    "sklearn.tree._classes": "BaseDecisionTree DecisionTreeClassifier DecisionTreeRegressor ExtraTreeClassifier ExtraTreeRegressor",
    "sklearn.tree._criterion": "ClassificationCriterion Criterion Entropy Gini MAE MSE Poisson RegressionCriterion __pyx_unpickle_Criterion",
    "sklearn.tree._export": "Sentinel _BaseTreeExporter _DOTTreeExporter _MPLTreeExporter",
    "sklearn.tree._partitioner": "DensePartitioner SparsePartitioner __pyx_unpickle_DensePartitioner __pyx_unpickle_SparsePartitioner",
    "sklearn.tree._reingold_tilford": "DrawTree Tree",
    "sklearn.tree._splitter": "BestSparseSplitter BestSplitter RandomSparseSplitter RandomSplitter Splitter",
    "sklearn.tree._tree": "BestFirstTreeBuilder DepthFirstTreeBuilder Tree TreeBuilder _AlphaPruner _CCPPruneController _PathFinder __pyx_unpickle_TreeBuilder __pyx_unpickle__CCPPruneController",
    "sklearn.tree._utils": "PytestWeightedFenwickTree WeightedFenwickTree",
    "sklearn.utils._available_if": "_AvailableIfDescriptor",
    "sklearn.utils._bunch": "Bunch",
    "sklearn.utils._cython_blas": "BLAS_Order BLAS_Trans",
    "sklearn.utils._encode": "MissingValues _NaNCounter _nandict",
    "sklearn.utils._fast_dict": "IntFloatDict __pyx_unpickle_IntFloatDict",
    "sklearn.utils._isfinite": "FiniteStatus",
    "sklearn.utils._metadata_requests": "MetadataRequest MetadataRouter MethodMapping MethodMetadataRequest MethodPair RequestMethod RouterMappingPair _MetadataRequester _RoutingNotSupportedMixin",
    "sklearn.utils._mocking": "ArraySlicingWrapper CheckingClassifier MockDataFrame NoSampleWeightWrapper _MockEstimatorOnOffPrediction",
    "sklearn.utils._param_validation": "HasMethods Hidden Interval MissingValues Options RealNotInt StrOptions _ArrayLikes _Booleans _CVObjects _Callables _Constraint _InstancesOf _IterablesNotString _NanConstraint _NoneConstraint _PandasNAConstraint _RandomStates _SparseMatrices _VerboseHelper",
    "sklearn.utils._plotting": "_BinaryClassifierCurveDisplayMixin",
    "sklearn.utils._pprint": "KeyValTuple KeyValTupleParam _EstimatorPrettyPrinter",
    "sklearn.utils._repr_html.base": "ReprHTMLMixin _HTMLDocumentationLinkMixin _IDCounter",
    "sklearn.utils._repr_html.estimator": "_VisualBlock",
    "sklearn.utils._repr_html.fitted_attributes": "AttrsDict",
    "sklearn.utils._repr_html.params": "ParamsDict",
    "sklearn.utils._seq_dataset": "ArrayDataset32 ArrayDataset64 CSRDataset32 CSRDataset64 SequentialDataset32 SequentialDataset64",
    "sklearn.utils._set_output": "ContainerAdapterProtocol ContainerAdaptersManager PandasAdapter PolarsAdapter _SetOutputMixin",
    "sklearn.utils._tags": "ClassifierTags InputTags RegressorTags Tags TargetTags TransformerTags",
    "sklearn.utils._vector_sentinel": "StdVectorSentinel StdVectorSentinelFloat64 StdVectorSentinelInt32 StdVectorSentinelInt64 StdVectorSentinelIntP __pyx_unpickle_StdVectorSentinel __pyx_unpickle_StdVectorSentinelFloat64 __pyx_unpickle_StdVectorSentinelInt32 __pyx_unpickle_StdVectorSentinelInt64 __pyx_unpickle_StdVectorSentinelIntP",
    "sklearn.utils._weight_vector": "WeightVector32 WeightVector64",
    "sklearn.utils.deprecation": "deprecated",
    "sklearn.utils.estimator_checks": "_NotAnArray",
    "sklearn.utils.metaestimators": "_BaseComposition",
}
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    (module, name) for module, names in _BY_MODULE.items() for name in names.split()
)

# Loaders that unpickle or run code again: named in the warning, never allowed.
_RELOADERS_BY_MODULE = {
    "torch": "load",
    "torch.serialization": "load _load _legacy_load",
    "torch.storage": "_load_from_bytes",
    "torch.jit": "load",
    "pickle": "load loads _load _loads Unpickler _Unpickler",
    "_pickle": "load loads Unpickler",
    "numpy": "load",
    "numpy.lib.npyio": "load",
    "numpy.lib._npyio_impl": "load",
    "numpy.lib.format": "read_array",
    "pandas": "read_pickle",
    "pandas.io.pickle": "read_pickle",
    "joblib": "load",
    "joblib.numpy_pickle": "load NDArrayWrapper ZNDArrayWrapper",
    "dill": "load loads",
    "dill._dill": "load loads _create_function _create_code",
    "cloudpickle": "load loads",
    "cloudpickle.cloudpickle": "_make_function subimport _builtin_type",
    "marshal": "load loads",
    "types": "CodeType FunctionType",
    "builtins": "exec eval compile __import__ getattr",
    "importlib": "import_module",
}
RELOADERS: frozenset[tuple[str, str]] = frozenset(
    (module, name) for module, names in _RELOADERS_BY_MODULE.items() for name in names.split()
)


# Modules whose names are known to run programs, touch files or import again: their
# imports are listed first, so a long list of unknown names cannot push them out of view.
_KNOWN_DANGEROUS_ROOTS = frozenset(
    [
        "os",
        "posix",
        "nt",
        "subprocess",
        "sys",
        "shutil",
        "socket",
        "pty",
        "runpy",
        "importlib",
        "ctypes",
        "pickle",
        "_pickle",
        "marshal",
        "code",
        "codeop",
        "webbrowser",
        "pdb",
        "bdb",
        "timeit",
        "cProfile",
        "profile",
        "uuid",
        "urllib",
        "http",
        "requests",
        "asyncio",
        "multiprocessing",
        "signal",
        "tempfile",
        "io",
        "_io",
        "builtins",
        "__builtin__",
        "operator",
        "_operator",
        "functools",
        "types",
        "dill",
        "cloudpickle",
        "joblib",
        "torch",
        "numpy",
        "pandas",
    ]
)


def severity(module: str, name: str) -> int:
    """0 for imports known to run code or load again, 1 for others."""
    if (module, name) in RELOADERS or module.split(".", 1)[0] in _KNOWN_DANGEROUS_ROOTS:
        return 0
    return 1


def canonical(module: str, name: str, proto: int) -> tuple[str, str]:
    """The pair `find_class` imports: protocols 0-2 map Python 2 names (fix_imports)."""
    if proto < 3:
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return _compat_pickle.NAME_MAPPING[(module, name)]
        if module in _compat_pickle.IMPORT_MAPPING:
            return _compat_pickle.IMPORT_MAPPING[module], name
    return module, name


def is_allowed(module: str, name: str, proto: int = 4) -> bool:
    """Whether importing `name` from `module` (as pickle would, at `proto`) builds data only."""
    return canonical(module, name, proto) in ALLOWED


def reloads(module: str, name: str, proto: int = 4) -> bool:
    """Whether the global unpickles or executes something again."""
    return canonical(module, name, proto) in RELOADERS


def is_safe_global(name: str) -> bool:
    """`module.qualname` spelled as one dotted string (skops, tests): allowed if some
    split of it at a dot is an allowed pair."""
    parts = name.split(".")
    return any((".".join(parts[:i]), ".".join(parts[i:])) in ALLOWED for i in range(1, len(parts)))


def display(module: str, name: str) -> str:
    return clip(f"{module}.{name}", 300)
